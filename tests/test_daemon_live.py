"""A real `rlaif daemon` (smoke config, 127.0.0.1, started paused) steered through its API.

One daemon serves the whole module; the tests run in order: auth, a run steered step by step
(events, settings, ratings reaching training, pause/resume), then a graceful SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rlaif_tui.api import ApiError, Event, RatingIn, SettingsPatch
from tests.daemon_helpers import LiveDaemon, start_daemon

pytestmark = [pytest.mark.slow]

STEPS = 3


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    run_dir = tmp_path_factory.mktemp("live") / "run"
    live = start_daemon(run_dir, "--paused", "--steps", str(STEPS))
    try:
        yield live
    finally:
        live.stop()


async def next_of(events: AsyncIterator[Event], kind: str, timeout_s: float = 180) -> Event:
    async with asyncio.timeout(timeout_s):
        async for event in events:
            if event.type == kind:
                return event
    raise AssertionError(f"the stream ended before a {kind} frame")


async def metrics_of_step(events: AsyncIterator[Event], step: int) -> dict[str, Any]:
    while (event := await next_of(events, "metrics")).data["step"] < step:
        pass
    assert event.data["step"] == step
    return event.data


async def until_status(daemon: LiveDaemon, predicate: Any, timeout_s: float = 180) -> Any:
    async with daemon.client() as client, asyncio.timeout(timeout_s):
        while True:
            status = await client.status()
            if predicate(status):
                return status
            await asyncio.sleep(0.2)


async def test_health_is_open_and_the_rest_needs_the_token(daemon: LiveDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{daemon.url}/api/health") as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            async with http.get(f"{daemon.url}/api/status", headers=headers) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"]["code"] == "unauthorized"
        async with http.get(f"{daemon.url}/api/openapi.json", headers=daemon.headers) as resp:
            assert (await resp.json())["paths"]["/api/ratings"]["post"]
    assert (daemon.run_dir / "token").stat().st_mode & 0o077 == 0


async def test_a_run_steered_through_the_api(daemon: LiveDaemon) -> None:
    async with daemon.client() as client:
        events = client.events()
        snapshot = await next_of(events, "snapshot")
        assert snapshot.data["status"]["state"] in ("starting", "paused")
        await until_status(daemon, lambda s: s.phase == "idle" and s.isolation != "unknown")

        settings = await client.update_settings(SettingsPatch(temperature=0.8))
        assert settings.temperature == 0.8
        assert (await client.settings()).temperature == 0.8
        journal = (daemon.run_dir / "settings.jsonl").read_text().splitlines()
        assert json.loads(journal[-1])["settings"] == {"temperature": 0.8}
        with pytest.raises(ApiError) as bad:
            await client.update_settings(SettingsPatch(reward_weights={"nope": 1.0}))
        assert (bad.value.status, bad.value.field) == (422, "reward_weights.nope")

        assert (await client.control("resume")).state == "running"
        await metrics_of_step(events, 1)
        paused = await client.control("pause")
        assert paused.state == "paused"
        held = await until_status(daemon, lambda s: s.phase in ("idle", "done"))
        assert held.state == "paused"

        samples, total = await client.samples(limit=100)
        assert total >= 8
        group = (await client.sample(samples[0]["id"]))["group"]
        low, high = sorted(group, key=lambda s: s["reward"])[0], group[-1]
        first_rating = RatingIn(id="live-rating-1", sample_id=low["id"], score=1)
        stored = await client.rate(first_rating)
        again = await client.rate(first_rating)
        assert again == stored
        await client.rate(RatingIn(id="live-rating-2", sample_id=high["id"], score=5))
        ratings = await client.ratings()
        assert [r.id for r in ratings] == ["live-rating-1", "live-rating-2"]
        assert (await client.status()).ratings == 2

        step_before = held.step
        await client.control("resume")
        after = await metrics_of_step(events, step_before + 1)
        assert after["human/late"] == 2.0  # both scores reached the trainer before this step
        done = await until_status(daemon, lambda s: s.state == "finished")
        assert done.step == STEPS
        assert done.last_checkpoint == f"step-{STEPS:06d}"
        metrics = await client.metrics(since=0)
        assert [m["step"] for m in metrics] == list(range(1, STEPS + 1))
        assert [m["step"] for m in await client.metrics(since=STEPS - 1)] == [STEPS]


async def test_sigterm_stops_cleanly_and_closes_clients(daemon: LiveDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{daemon.url}/api/events", headers=daemon.headers)
        assert json.loads((await ws.receive()).data)["type"] == "snapshot"
        code = await asyncio.to_thread(daemon.stop)
        async with asyncio.timeout(30):
            while (msg := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
                pass
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
    assert code == 0, daemon.log()
    check_clean_exit(daemon.run_dir)


def check_clean_exit(run_dir: Path) -> None:
    assert not (run_dir / "daemon.json").exists()
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == f"step-{STEPS:06d}"
