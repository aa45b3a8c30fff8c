"""A cheap websocket reader for `rlaif bench daemon`: an asyncio protocol on a bare socket.

The benchmark's clients run on the cores the daemon under test trains on, so what they cost
is taken from the measurement. aiohttp's client wakes a task and builds a message object per
frame; this reader parses the frames of each chunk the socket hands it in one callback, in
place (RFC 6455 5.2 framing: the server's frames are unmasked, its own are masked), and looks
at no more of a frame than the benchmark needs. It still reads every byte as it arrives, so
the daemon sees a client that keeps up with the stream.

Only what the daemon's `/api/events` uses is handled: unfragmented text frames, ping (answered
with pong), close (answered, then the socket is closed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""RFC 6455's constant for the handshake's Sec-WebSocket-Accept."""
OnText = Callable[[bytearray, int, int, float], None]
"""Called with a buffer, where a text frame's payload starts and ends in it (valid during the
call only), and the time the chunk arrived."""


class Follower(asyncio.Protocol):
    def __init__(self, host: str, path: str, token: str, on_text: OnText) -> None:
        self.request_head = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n"
        )
        self.key = base64.b64encode(os.urandom(16))
        self.on_text = on_text
        self.buffer = bytearray()
        loop = asyncio.get_running_loop()
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        """Resolves with the daemon's close code (None: the connection was cut)."""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        head = self.request_head + f"Sec-WebSocket-Key: {self.key.decode()}\r\n\r\n"
        transport.write(head.encode())

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded.done() and not self._upgrade():
            return
        self._frames(now)

    def _upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            self.upgraded.set_exception(ConnectionError(f"no websocket upgrade: {head[:200]!r}"))
            self._close_transport()
            return False
        self.upgraded.set_result(None)
        return True

    def _frames(self, now: float) -> None:
        """Hand over every whole frame in the buffer; keep a partial one for the next chunk."""
        buf, at, size = self.buffer, 0, len(self.buffer)
        while size - at >= 2:
            first, n, start = buf[at], buf[at + 1] & 0x7F, at + 2
            if n == 126:
                if size - at < 4:
                    break
                n, start = int.from_bytes(buf[at + 2 : at + 4], "big"), at + 4
            elif n == 127:
                if size - at < 10:
                    break
                n, start = int.from_bytes(buf[at + 2 : at + 10], "big"), at + 10
            if size - start < n:
                break
            at = start + n
            opcode = first & 0x0F
            if opcode == 1:
                if not first & 0x80:
                    raise ConnectionError("a fragmented frame: the daemon sends whole ones")
                self.on_text(buf, start, at, now)
            elif opcode == 8:
                code = int.from_bytes(buf[start : start + 2], "big") if n >= 2 else None
                self._send(0x8, buf[start : start + 2])
                self._finish(code)
                return
            elif opcode == 9:
                self._send(0xA, bytes(buf[start:at]))
        del buf[:at]

    def _send(self, opcode: int, payload: bytes | bytearray) -> None:
        """A client frame: masked, as RFC 6455 5.3 requires (payloads here are < 126 bytes)."""
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked)

    def close(self) -> None:
        """Close with 1000 (normal); the daemon answers and the socket is closed."""
        self._send(0x8, struct.pack("!H", 1000))

    def _finish(self, code: int | None) -> None:
        if not self.closed.done():
            self.closed.set_result(code)
        self._close_transport()

    def _close_transport(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed before the upgrade"))
        if not self.closed.done():
            self.closed.set_result(None)


async def follow(url: str, token: str, on_text: OnText) -> Follower:
    """Connect to `url` (http://host:port/path; no TLS) and upgrade; frames then go to
    `on_text` until the connection closes (`Follower.closed`)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise ValueError(f"{url}: the bench reader speaks plain http://host:port only")
    loop = asyncio.get_running_loop()
    host = f"{parts.hostname}:{parts.port}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    _, follower = await loop.create_connection(
        lambda: Follower(host, path, token, on_text), parts.hostname, parts.port
    )
    await asyncio.wait_for(follower.upgraded, 30)
    return follower
