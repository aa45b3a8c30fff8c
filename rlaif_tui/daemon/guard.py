"""Connection limits: what keeps a slowloris from costing the daemon anything visible.

- Headers and idle keep-alive: aiohttp arms its keep-alive timer when a connection opens and
  again after each response, and closes a connection still waiting for a complete request
  line and headers when it fires; so `keepalive_timeout=request_timeout_s` bounds both a
  half-sent header and an idle socket.
- Bodies: `errors.json_body` reads a body under the same timeout (a 408 that closes the
  connection), so a body that claims 60 kB and sends one byte holds nothing for long; after an
  answer to a body that was not read to its end, aiohttp drains it for `LINGER_S` at most.
- Per peer address: at most `per_ip` open connections; more are reset on accept, before
  aiohttp sets anything up for them. Loopback clients of other addresses are unaffected.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

REQUEST_TIMEOUT_S = 10.0
"""Default bound on a request's headers, its body, and an idle keep-alive connection."""
LINGER_S = 1.0
"""aiohttp's lingering close (default 10 s), shortened so a 408 closes promptly."""
MAX_CONNECTIONS_PER_IP = 256
"""Default cap on open connections (websockets included) from one peer address."""


class _Capped(asyncio.Protocol):
    """aiohttp's protocol for one connection, or nothing if its peer has too many open."""

    def __init__(self, handler: RequestHandler, cap: ConnectionCap) -> None:
        self.handler = handler
        self.cap = cap
        self.peer: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if self.cap.open[address] >= self.cap.per_ip:
            self.cap.refused += 1
            assert isinstance(transport, asyncio.Transport)
            transport.abort()  # a reset: nothing was parsed or allocated for it
            return
        self.cap.open[address] += 1
        self.peer = address
        self.handler.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is None:
            return
        self.cap.open[self.peer] -= 1
        if self.cap.open[self.peer] <= 0:
            del self.cap.open[self.peer]
        self.handler.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None:
            self.handler.data_received(data)

    def eof_received(self) -> None:
        if self.peer is not None:
            self.handler.eof_received()

    def pause_writing(self) -> None:
        if self.peer is not None:
            self.handler.pause_writing()

    def resume_writing(self) -> None:
        if self.peer is not None:
            self.handler.resume_writing()


class ConnectionCap:
    """A protocol factory in front of aiohttp's server: counts open connections per peer."""

    def __init__(self, server: web.Server, per_ip: int) -> None:
        self.server = server
        self.per_ip = per_ip
        self.open: Counter[str] = Counter()
        self.refused = 0

    def __call__(self) -> _Capped:
        return _Capped(self.server(), self)


class CappedSite(web.BaseSite):
    """`web.TCPSite` with a `ConnectionCap` between the socket and aiohttp."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, per_ip: int, **kwargs: Any
    ) -> None:
        super().__init__(runner, **kwargs)
        self._host, self._port, self._per_ip = host, port, per_ip
        self.cap: ConnectionCap | None = None

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self.cap = ConnectionCap(server, self._per_ip)
        self._server = await asyncio.get_running_loop().create_server(
            self.cap, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog
        )
