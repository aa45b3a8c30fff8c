"""200 websocket clients on a real `rlaif daemon` (smoke config, 127.0.0.1) that trains and
takes ratings meanwhile: none is dropped, and each sees the run through to `finished`.

Bounded: the run has a few steps and the whole test a timeout; the figures (latency, step
time with and without clients) are `rlaif bench daemon`'s, not this test's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.daemon_helpers import LiveDaemon, start_daemon

pytestmark = [pytest.mark.slow]

CLIENTS = 200
STEPS = 3


@pytest.fixture
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    live = start_daemon(
        tmp_path_factory.mktemp("fanout") / "run", "--paused", "--steps", str(STEPS)
    )
    try:
        yield live
    finally:
        live.stop()


async def follow(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """Read every frame until the run is finished; what this client saw."""
    seen: dict[str, Any] = {"frames": 0, "finished": False, "ids": []}
    async for msg in ws:
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        frame = json.loads(msg.data)
        seen["frames"] += 1
        seen["ids"].append(frame["id"])
        if frame["type"] == "status" and frame["data"]["state"] == "finished":
            seen["finished"] = True
            break
    seen["close_code"] = ws.close_code
    return seen


async def test_200_clients_follow_a_training_run_and_none_is_dropped(daemon: LiveDaemon) -> None:
    headers = daemon.headers
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = [
            await http.ws_connect(f"{daemon.url}/api/events", headers=headers)
            for _ in range(CLIENTS)
        ]
        readers = [asyncio.create_task(follow(ws)) for ws in sockets]
        async with http.post(f"{daemon.url}/api/control/resume", headers=headers) as resp:
            assert resp.status == 200
        acked = 0
        async with asyncio.timeout(600):
            while not all(r.done() for r in readers):
                async with http.get(f"{daemon.url}/api/samples?limit=1", headers=headers) as resp:
                    samples = (await resp.json())["samples"]
                if samples:  # ratings meanwhile, ~10/s
                    body = {"id": uuid.uuid4().hex, "sample_id": samples[0]["id"], "score": 4}
                    async with http.post(
                        f"{daemon.url}/api/ratings", json=body, headers=headers
                    ) as resp:
                        assert resp.status == 201
                        acked += 1
                await asyncio.sleep(0.1)
        seen = [r.result() for r in readers]
        for ws in sockets:
            await ws.close()
    assert acked > 0
    dropped = [s["close_code"] for s in seen if not s["finished"]]
    assert dropped == [], f"{len(dropped)} of {CLIENTS} clients did not see the end: {dropped[:5]}"
    for s in seen:
        assert s["ids"] == sorted(s["ids"])
        assert s["frames"] > STEPS  # a snapshot, then metrics, samples, ratings, status
