"""kill -9 a daemon mid-run, then `rlaif daemon --resume`: the step counter continues from the
last checkpoint and every rating the daemon acknowledged is still there and reaches training."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from rlaif_tui.api import RatingIn
from tests.daemon_helpers import start_daemon

pytestmark = [pytest.mark.slow]

STEPS = 8


async def test_kill_9_then_resume_continues_and_keeps_acknowledged_ratings(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    first = start_daemon(run_dir, "--steps", str(STEPS))
    try:
        async with first.client() as client, asyncio.timeout(300):
            while True:  # a checkpoint exists and the run goes on
                if (await client.status()).last_checkpoint is not None:
                    break
                await asyncio.sleep(0.1)
            samples, _ = await client.samples(limit=2)
            acked = [
                await client.rate(RatingIn(id=f"kill-rating-{i}", sample_id=s["id"], score=i + 2))
                for i, s in enumerate(samples)
            ]
            status = await client.status()
        first.process.kill()  # SIGKILL: no checkpoint, no clean-up
        first.process.wait(30)
    finally:
        first.stop()
    assert status.step < STEPS, "the run finished before the kill; nothing was tested"
    latest = (run_dir / "checkpoints" / "latest").read_text().strip()
    resumed_from = int(latest.removeprefix("step-"))

    second = start_daemon(run_dir, "--resume", str(run_dir), "--steps", str(STEPS))
    try:
        async with second.client() as client, asyncio.timeout(300):
            while True:
                start = await client.status()
                if start.state != "starting":
                    break
                await asyncio.sleep(0.1)
            assert start.step >= resumed_from
            assert start.ratings == len(acked)
            while True:
                done = await client.status()
                if done.state == "finished":
                    break
                await asyncio.sleep(0.2)
            stored = await client.ratings()
            metrics = await client.metrics(since=0)
    finally:
        code = second.stop()
    assert code == 0, second.log()
    assert done.step == STEPS
    assert [(r.id, r.sample_id, r.score) for r in stored] == [
        (r.id, r.sample_id, r.score) for r in acked
    ]
    # one metrics line per step, none doubled by the replayed step
    assert [m["step"] for m in metrics] == list(range(1, STEPS + 1))
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(1, STEPS + 1))
    # ratings stored after the last checkpoint were handed to the resumed trainer
    if any(r.step >= resumed_from for r in acked):
        assert "stored ratings to the trainer" in second.log()
