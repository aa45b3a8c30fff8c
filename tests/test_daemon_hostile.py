"""A real `rlaif daemon` (smoke config, 127.0.0.1) against hostile input: bodies that are too
deep or not finite, half-sent headers and stalled bodies (a slowloris from another loopback
address), wrong Host/Origin headers, and what a 401 or the run directory reveal.

One daemon serves the module, with a short `--request-timeout` and a small per-IP cap so
the limits are reached quickly; the tests run in order.
"""

from __future__ import annotations

import asyncio
import json
import selectors
import socket
import stat
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.daemon_helpers import LiveDaemon, start_daemon

pytestmark = [pytest.mark.slow]

TIMEOUT_S = 2.0
PER_IP = 40
SLOWLORIS = 300
"""Sockets the slowloris opens: far more than the per-IP cap."""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    run_dir = tmp_path_factory.mktemp("hostile") / "run"
    live = start_daemon(
        run_dir,
        "--paused",
        "--steps",
        "3",
        "--request-timeout",
        str(TIMEOUT_S),
        "--max-connections-per-ip",
        str(PER_IP),
    )
    try:
        yield live
    finally:
        live.stop()


def port_of(daemon: LiveDaemon) -> int:
    return int(daemon.url.rsplit(":", 1)[1])


async def call(
    daemon: LiveDaemon, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, Any]:
    sent = {**daemon.headers, "Content-Type": "application/json", **headers}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{daemon.url}{path}", data=body, headers=sent) as resp,
    ):
        return resp.status, await resp.json()


async def status(daemon: LiveDaemon) -> dict[str, Any]:
    code, body = await call(daemon, "GET", "/api/status")
    assert code == 200
    return dict(body)


async def test_a_deep_body_is_a_400_and_an_infinite_setting_a_422_while_the_run_trains(
    daemon: LiveDaemon,
) -> None:
    deep = b'{"id": "r-00000001", "sample_id": "s", "comment": ' + b"[" * 20_000 + b"]" * 20_000
    code, body = await call(daemon, "POST", "/api/ratings", deep + b"}")
    assert code == 400
    assert body["error"]["field"] == "comment"
    code, body = await call(
        daemon, "PATCH", "/api/settings", b'{"kl_target": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}'
    )
    assert (code, body["error"]["field"]) == (400, "kl_target")

    assert (await call(daemon, "POST", "/api/control/resume"))[0] == 200
    async with asyncio.timeout(300):
        while True:  # until the trainer is built and a step is under way
            if (await status(daemon))["phase"] not in ("loading", "idle"):
                break
            await asyncio.sleep(0.2)
    before = (await status(daemon))["settings"]
    for raw in (
        b'{"kl_coef": 1e999}',
        b'{"temperature": -1e999}',
        b'{"reward_weights": {"execution": 1e400}}',
    ):
        code, body = await call(daemon, "PATCH", "/api/settings", raw)
        assert code == 422, body
        assert body["error"]["field"].split(".")[0] in ("kl_coef", "temperature", "reward_weights")
    for raw in (b'{"kl_coef": Infinity}', b'{"temperature": NaN}'):
        code, body = await call(daemon, "PATCH", "/api/settings", raw)
        assert (code, body["error"]["code"]) == (400, "invalid_json")

    async with asyncio.timeout(300):
        while (now := await status(daemon))["state"] != "finished":
            assert now["state"] != "failed", daemon.log()
            await asyncio.sleep(0.5)
    assert now["step"] == 3
    assert now["settings"] == before
    async with aiohttp.ClientSession() as http:
        for path in ("/api/status", "/api/settings", "/api/metrics"):
            async with http.get(f"{daemon.url}{path}", headers=daemon.headers) as resp:
                json.loads(await resp.text(), parse_constant=pytest.fail)  # no bare NaN/Infinity


def half_open(port: int, payload: bytes) -> socket.socket:
    """A socket from 127.0.0.2 (another loopback address than the test's own client)
    that sends `payload` and then nothing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.2", 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    if payload:
        sock.sendall(payload)
    return sock


def close_times(sockets: list[socket.socket], started: float, limit_s: float) -> list[Any]:
    """For each socket, (seconds from `started` until the daemon closed it, what it sent),
    or None if it was still open after `limit_s`; one selector over all of them."""
    selector = selectors.DefaultSelector()
    got: dict[int, bytes] = {}
    closed: dict[int, float] = {}
    for i, sock in enumerate(sockets):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, i)
        got[i] = b""
    while len(closed) < len(sockets) and time.monotonic() - started < limit_s:
        for key, _ in selector.select(timeout=0.1):
            i = key.data
            try:
                chunk = sockets[i].recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                got[i] += chunk
                continue
            closed[i] = time.monotonic() - started
            selector.unregister(sockets[i])
    selector.close()
    return [(closed[i], got[i]) if i in closed else None for i in range(len(sockets))]


async def test_a_slowloris_is_cut_off_and_costs_other_clients_nothing(daemon: LiveDaemon) -> None:
    port = port_of(daemon)
    header = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    body = b"POST /api/ratings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    body += f"Authorization: Bearer {daemon.token}\r\nContent-Length: 60000\r\n\r\n{{".encode()
    started = time.monotonic()
    kinds = [header, body, b""]  # half-sent header, stalled body, idle connection
    sockets = [half_open(port, kinds[i % 3]) for i in range(SLOWLORIS)]
    try:
        # the daemon answers its own clients at once, whatever the slowloris holds
        for _ in range(5):
            assert (await status(daemon))["run"] == daemon.run_dir.name
        results = await asyncio.to_thread(close_times, sockets, started, 10 * TIMEOUT_S)
    finally:
        for sock in sockets:
            sock.close()
    answered = 0
    for i, result in enumerate(results):
        assert result is not None, f"socket {i} ({('header', 'body', 'idle')[i % 3]}) still open"
        after_s, got = result
        assert after_s < TIMEOUT_S + 3.0, (i % 3, after_s)  # closed within the timeout
        if i % 3 == 1 and got:
            answered += 1  # a stalled body that was accepted: a 408 that says why
            assert got.startswith(b"HTTP/1.1 408"), got[:200]
            assert b"did not arrive within" in got
    assert answered > 0  # some stalled bodies got past the per-IP cap and were timed out
    assert await status(daemon)  # and the daemon is still there


async def test_only_allowed_hosts_and_origins_are_served(daemon: LiveDaemon) -> None:
    port = port_of(daemon)
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example"):
        code, body = await call(daemon, "GET", "/api/status", Host=host)
        assert (code, body["error"]["code"], body["error"]["field"]) == (
            403,
            "forbidden_host",
            "Host",
        )
    code, body = await call(daemon, "GET", "/api/status", Origin="http://evil.example")
    assert (code, body["error"]["field"]) == (403, "Origin")
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert (await call(daemon, "GET", "/api/status", Host=host))[0] == 200
    code, _ = await call(daemon, "GET", "/api/status", Origin=f"http://localhost:{port}")
    assert code == 200


async def test_a_401_reveals_no_path_and_the_run_dir_is_private(daemon: LiveDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            async with http.get(f"{daemon.url}/api/status", headers=headers) as resp:
                assert resp.status == 401
                text = await resp.text()
        assert str(daemon.run_dir) not in text
        assert "/" not in json.loads(text)["error"]["message"].replace("/api", "")
    assert stat.S_IMODE(daemon.run_dir.stat().st_mode) == 0o700
    files = [p for p in daemon.run_dir.rglob("*") if p.is_file()]
    assert len(files) >= 5  # token, daemon.json, lock, ratings.sqlite, metrics, checkpoints...
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
