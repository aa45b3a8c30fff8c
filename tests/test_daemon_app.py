"""The daemon's aiohttp app driven with `aiohttp_client`, before its trainer starts.

No torch here: the runner is built but not started (state `starting` / `paused`), and the
sample index is fed records the way the trainer's hook feeds it. Auth, JSON errors, the rating
round trip and the event stream (snapshot, replay, a slow client dropped) are all real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from rlaif_tui.api import DaemonClient
from rlaif_tui.config import load_config
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.daemon.hub import EventHub
from rlaif_tui.daemon.runner import Runner
from rlaif_tui.daemon.server import MAX_BODY, Daemon, make_app
from rlaif_tui.daemon.store import RatingsStore

REPO = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def record(step: int, group: int, index: int, **extra: Any) -> dict[str, Any]:
    sid = f"s{step:06d}-g{group:02d}-{index:02d}"
    return {
        "id": sid,
        "step": step,
        "group_id": sid.rsplit("-", 1)[0],
        "problem_id": f"p{group}",
        "prompt": f"def f{group}():\n",
        "completion": f"    return {index}\n",
        "program": "",
        "reward": index / 4,
        "rewards": {"execution": index / 4},
        "advantage": 0.0,
        "outcome": {"status": "passed" if index == 3 else "failed", "flags": []},
        "flags": extra.pop("flags", []),
        **extra,
    }


@pytest.fixture
async def daemon(tmp_path: Path) -> Any:
    cfg = load_config(REPO / "configs" / "smoke.yaml", TrainConfig, {})
    loop = asyncio.get_running_loop()
    holder: dict[str, Runner] = {}
    hub = EventHub(lambda: holder["runner"].snapshot(), queue_limit=8)

    def never(hooks: Any) -> Any:
        raise AssertionError("these tests do not start the trainer")

    runner = Runner(cfg, tmp_path / "run", never, hub, loop)
    holder["runner"] = runner
    store = RatingsStore(tmp_path / "ratings.sqlite")
    pool = ThreadPoolExecutor(1)
    yield Daemon(runner, hub, store, cfg.model_dump(mode="json"), pool, wait_s=0.5)
    pool.shutdown()
    store.close()


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: ClientFactory, tmp_path: Path) -> Any:
    return await aiohttp_client(make_app(daemon, TOKEN))


async def error_of(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    body = await resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    return dict(body["error"])


async def test_every_route_but_health_needs_the_token(client: TestClient[Any, Any]) -> None:
    health = await client.get("/api/health")
    assert health.status == 200
    assert (await health.json())["status"] == "ok"
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
        resp = await client.get("/api/status", headers=headers)
        assert resp.status == 401
        assert (await error_of(resp))["code"] == "unauthorized"
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await client.ws_connect("/api/events")
    assert caught.value.status == 401
    ok = await client.get("/api/status", headers=AUTH)
    assert ok.status == 200
    assert (await ok.json())["state"] == "starting"


async def test_bad_input_is_a_4xx_naming_the_field(
    client: TestClient[Any, Any], daemon: Daemon
) -> None:
    daemon.runner.samples.add([record(1, 0, i) for i in range(4)])
    cases: list[tuple[str, str, Any, int, str | None]] = [
        ("GET", "/api/samples?limit=0", None, 400, "limit"),
        ("GET", "/api/samples?status=great", None, 400, "status"),
        ("GET", "/api/samples?min_reward=nan", None, 400, "min_reward"),
        ("GET", "/api/metrics?since=x", None, 400, "since"),
        ("GET", "/api/samples?colour=red", None, 400, "colour"),
        ("GET", "/api/samples/s999999-g00-00", None, 404, "id"),
        ("GET", "/api/ratings?format=csv", None, 400, "format"),
        ("POST", "/api/ratings", b"{not json", 400, "body"),
        ("POST", "/api/ratings", {"id": "r-0000001", "sample_id": "x"}, 422, None),
        ("POST", "/api/ratings", {"id": "short", "sample_id": "x", "score": 3}, 422, "id"),
        ("POST", "/api/ratings", {"id": "r-0000001", "sample_id": "x", "score": 9}, 422, "score"),
        (
            "POST",
            "/api/ratings",
            {"id": "r-0000001", "sample_id": "x", "score": 3},
            404,
            "sample_id",
        ),
        (
            "POST",
            "/api/ratings",
            {
                "id": "r-0000001",
                "sample_id": "s000001-g00-00",
                "score": 3,
                "confirm_flags": ["exit_call"],
            },
            422,
            "confirm_flags",
        ),
        (
            "POST",
            "/api/ratings",
            {"id": "r-0000001", "sample_id": "x", "score": True},
            422,
            "score",
        ),
        ("POST", "/api/ratings", {"id": "r-0000001", "sample_id": "x", "score": "3"}, 422, "score"),
        ("POST", "/api/ratings", b'{"id": "r-0000001", "comment": ' + b"[" * 10**4, 400, "comment"),
        ("PATCH", "/api/settings", b'{"kl_coef": 1e999}', 422, "kl_coef"),
        ("PATCH", "/api/settings", {"temperature": "0.5"}, 422, "temperature"),
        (
            "PATCH",
            "/api/settings",
            {"reward_weights": {"execution": 1e6}},
            422,
            "reward_weights.execution",
        ),
        ("PATCH", "/api/settings", {"temperature": -1}, 422, "temperature"),
        ("PATCH", "/api/settings", {"temperature": 0.5}, 409, None),  # still starting
        ("POST", "/api/control/explode", None, 404, None),
        ("POST", "/api/ratings", b"x" * (MAX_BODY + 1), 413, "body"),
        ("DELETE", "/api/status", None, 405, None),
        ("GET", "/api/nowhere", None, 404, None),
    ]
    json_type = {**AUTH, "Content-Type": "application/json"}
    for method, path, body, status, field in cases:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        headers = json_type if isinstance(body, bytes) else AUTH
        resp = await client.request(method, path, headers=headers, **kwargs)
        error = await error_of(resp)
        assert (resp.status, error["field"]) == (status, field), (method, path, error)
    rating = {"id": "r-0000001", "sample_id": "s000001-g00-00", "score": "3"}
    not_json: list[dict[str, Any]] = [
        {"data": json.dumps(rating), "headers": {**AUTH, "Content-Type": "text/plain"}},
        {"data": rating},  # a form
        {"data": json.dumps(rating).encode()},  # no content type
    ]
    for kwargs in not_json:
        resp = await client.post("/api/ratings", **{"headers": AUTH, **kwargs})
        error = await error_of(resp)
        assert (resp.status, error["field"]) == (415, "Content-Type"), error
    assert await daemon.in_store(daemon.store.count) == 0


async def test_a_rating_round_trip_stores_once_and_is_announced(
    client: TestClient[Any, Any], daemon: Daemon
) -> None:
    daemon.runner.samples.add([record(1, 0, i) for i in range(4)])
    ws = await client.ws_connect("/api/events", headers=AUTH)
    snapshot = json.loads((await ws.receive()).data)
    assert (snapshot["v"], snapshot["type"]) == (1, "snapshot")
    assert [s["id"] for s in snapshot["data"]["samples"]][-1] == "s000001-g00-03"
    body = {"id": "rating-000001", "sample_id": "s000001-g00-02", "score": 4, "rater": "ann"}
    first = await client.post("/api/ratings", json=body, headers=AUTH)
    again = await client.post("/api/ratings", json=body, headers=AUTH)
    assert (first.status, again.status) == (201, 200)
    assert await first.json() == await again.json()
    changed = await client.post("/api/ratings", json={**body, "score": 1}, headers=AUTH)
    assert changed.status == 409
    assert (await error_of(changed))["field"] == "id"
    pref = {"id": "rating-000002", "chosen_id": "s000001-g00-03", "rejected_id": "s000001-g00-00"}
    assert (await client.post("/api/ratings", json=pref, headers=AUTH)).status == 201

    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(30):  # until a status frame carries both (ratings share one)
        while not (
            frames and frames[-1]["type"] == "status" and frames[-1]["data"]["ratings"] == 2
        ):
            frames.append(json.loads((await ws.receive()).data))
    rated = [f["data"]["id"] for f in frames if f["type"] == "rating"]
    assert rated == ["rating-000001", "rating-000002"]  # each announced once
    assert [f["id"] for f in frames] == list(
        range(snapshot["id"] + 1, snapshot["id"] + 1 + len(frames))
    )
    assert len(frames) <= 4

    stored = (await (await client.get("/api/ratings", headers=AUTH)).json())["ratings"]
    assert [(r["id"], r.get("score")) for r in stored] == [
        ("rating-000001", 4),
        ("rating-000002", None),
    ]
    pairs = await (await client.get("/api/ratings?format=pairs", headers=AUTH)).text()
    assert json.loads(pairs.splitlines()[0]) == {
        "prompt": "def f0():\n",
        "chosen": "    return 3\n",
        "rejected": "    return 0\n",
    }
    one = await (await client.get("/api/samples/s000001-g00-01", headers=AUTH)).json()
    assert one["sample"]["id"] == "s000001-g00-01"
    assert len(one["group"]) == 4
    page = await (await client.get("/api/samples?status=passed", headers=AUTH)).json()
    assert page["total"] == 1
    assert page["samples"][0]["id"] == "s000001-g00-03"
    await ws.close()


async def test_a_client_resuming_with_since_gets_exactly_what_it_missed(
    client: TestClient[Any, Any], daemon: Daemon
) -> None:
    first = daemon.hub.publish("log", {"level": "info", "message": "one"})
    daemon.hub.publish("log", {"level": "info", "message": "two"})
    daemon.hub.publish("log", {"level": "info", "message": "three"})
    ws = await client.ws_connect(f"/api/events?since={first}", headers=AUTH)
    got = [json.loads((await ws.receive()).data) for _ in range(2)]
    assert [f["data"]["message"] for f in got] == ["two", "three"]
    await ws.close()
    stale = await client.ws_connect("/api/events?since=5", headers=AUTH)  # an older daemon's id
    assert json.loads((await stale.receive()).data)["type"] == "snapshot"
    await stale.close()


async def test_a_client_that_stops_reading_is_dropped_and_others_keep_up(
    client: TestClient[Any, Any], daemon: Daemon
) -> None:
    hub = daemon.hub
    slow = await client.ws_connect("/api/events", headers=AUTH, max_msg_size=0)
    fast = await client.ws_connect("/api/events", headers=AUTH, max_msg_size=0)
    assert json.loads((await fast.receive()).data)["type"] == "snapshot"
    big = "x" * 256 * 1024
    received = 0
    async with asyncio.timeout(60):
        for _ in range(400):  # 100 MiB: far more than the socket buffers hold
            hub.publish("log", {"level": "info", "message": big})
            await asyncio.sleep(0)
            while True:  # the fast client reads everything as it comes
                try:
                    msg = await fast.receive(timeout=0.001)
                except TimeoutError:
                    break
                received += msg.type is aiohttp.WSMsgType.TEXT
            if hub.dropped:
                break
    assert hub.dropped == 1
    assert len(hub.subscribers) == 1  # the fast one
    async with asyncio.timeout(30):
        while (msg := await slow.receive()).type is aiohttp.WSMsgType.TEXT:
            pass  # what was already in flight
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert slow.close_code == 1013  # a close frame with a reason, not a cut connection
    assert "reconnect with ?since=" in str(msg.extra)
    assert received > 0
    await fast.close()


def test_a_lagging_queue_coalesces_metrics_and_summarises_samples_before_it_drops() -> None:
    hub = EventHub(dict, queue_limit=8, first_id=1)
    sub = hub.subscribe(None)  # queued: the snapshot
    for step in range(1, 101):
        hub.publish("metrics", {"step": step, "reward/mean": 0.5})
        for i in range(4):
            hub.publish("sample", {"id": f"s{step}-{i}", "step": step})
        hub.publish("status", {"step": step})
    assert hub.dropped == 0  # behind by 600 frames, yet within its 8
    assert len(sub.frames) <= 8
    queued = [json.loads(f.data) for f in sub.frames]
    assert [f["data"]["step"] for f in queued if f["type"] == "metrics"][-1] == 100
    assert [f["type"] for f in queued].count("status") == 1
    skipped = [f["data"] for f in queued if f["type"] == "samples_skipped"]
    assert skipped
    assert skipped[-1]["last_step"] == 100
    ids = [f["id"] for f in queued]
    assert ids == sorted(ids)  # frame ids still increase
    for n in range(8):  # frames that cannot be coalesced fill it: then it is dropped
        hub.publish("log", {"level": "info", "message": str(n)})
    assert hub.dropped == 1


async def test_the_client_reconnects_after_1013_and_misses_nothing(
    client: TestClient[Any, Any], daemon: Daemon
) -> None:
    hub = daemon.hub
    big = "x" * 256 * 1024
    got: list[int] = []
    url = str(client.make_url("")).rstrip("/")
    async with DaemonClient(url, TOKEN) as api, asyncio.timeout(120):
        events = api.events()
        assert (await anext(events)).type == "snapshot"
        first = hub.publish("log", {"level": "info", "message": "first"})
        assert (await anext(events)).id == first
        while not hub.dropped:  # the consumer stalls: the daemon's queue for it fills
            hub.publish("log", {"level": "info", "message": big})
            await asyncio.sleep(0)
        last = hub.publish("log", {"level": "info", "message": "last"})
        async for event in events:  # what was in flight, then a reconnect from ?since=
            got.append(event.id)
            if event.id == last:
                break
    assert got == list(range(first + 1, last + 1))  # no gap, no repeat


async def test_tls_serves_https_with_the_given_certificate(daemon: Daemon, tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    from rlaif_tui.daemon.main import tls_context

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    await asyncio.to_thread(
        subprocess.run,
        [*request, *subject, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with pytest.raises(ValueError, match="--tls-key"):
        tls_context(cert, None)
    runner = web.AppRunner(make_app(daemon, TOKEN))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_context(cert, key))
    await site.start()
    port = runner.addresses[0][1]
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://127.0.0.1:{port}/api/status", ssl=trust) as resp:
                assert resp.status == 401
            async with http.get(
                f"https://127.0.0.1:{port}/api/status", ssl=trust, headers=AUTH
            ) as resp:
                assert (await resp.json())["state"] == "starting"
    finally:
        await runner.cleanup()
