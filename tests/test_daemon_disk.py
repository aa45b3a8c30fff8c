"""A real `rlaif daemon` whose run directory is on a small tmpfs that fills up while it trains:
ratings get a 507 that says the disk is full, training pauses (phase `paused_io_error`) and
resumes by itself once space is freed, every acknowledged rating is kept and no file is torn.

Needs `mount -t tmpfs` (root or CAP_SYS_ADMIN); skipped, saying so, where it is not allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rlaif_tui.api import RatingIn
from rlaif_tui.daemon.store import RatingsStore
from tests.daemon_helpers import LiveDaemon, start_daemon

pytestmark = [pytest.mark.slow]

STEPS = 8


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 1 << 12):  # then the last partial pages
            with contextlib.suppress(OSError):
                while os.write(fd, b"\1" * chunk) == chunk:
                    pass
    finally:
        os.close(fd)
    return filler


async def rate(http: aiohttp.ClientSession, daemon: LiveDaemon, sample: str) -> tuple[int, Any]:
    rating = RatingIn(id=uuid.uuid4().hex, sample_id=sample, score=3)
    async with http.post(
        f"{daemon.url}/api/ratings", json=rating.model_dump(), headers=daemon.headers
    ) as resp:
        body = await resp.json()
    return resp.status, (rating.id if resp.status in (200, 201) else body)


async def get(http: aiohttp.ClientSession, daemon: LiveDaemon, path: str) -> Any:
    async with http.get(f"{daemon.url}{path}", headers=daemon.headers) as resp:
        assert resp.status == 200
        return await resp.json()


async def phases_of(daemon: LiveDaemon, seen: list[str]) -> None:
    async with daemon.client() as client:
        async for event in client.events():
            if event.type == "status":
                seen.append(event.data["phase"])


async def test_a_full_disk_pauses_training_and_loses_no_acknowledged_rating(
    small_disk: Path, tmp_path: Path
) -> None:
    run_dir = small_disk / "run"
    daemon = start_daemon(run_dir, "--paused", "--steps", str(STEPS), log_dir=tmp_path)
    acked: list[str] = []
    phases: list[str] = []
    try:
        follower = asyncio.create_task(phases_of(daemon, phases))
        async with aiohttp.ClientSession() as http, asyncio.timeout(600):
            await http.post(f"{daemon.url}/api/control/resume", headers=daemon.headers)
            while True:
                if samples := (await get(http, daemon, "/api/samples"))["samples"]:
                    break
                await asyncio.sleep(0.3)
            sample = samples[0]["id"]
            for _ in range(5):
                code, rid = await rate(http, daemon, sample)
                assert code == 201
                acked.append(rid)

            filler = fill(small_disk)
            refused = None
            for _ in range(100):  # until the store needs a page it cannot get
                code, answer = await rate(http, daemon, sample)
                if code == 201:
                    acked.append(answer)
                    continue
                refused = (code, answer)
                break
            assert refused is not None, "no rating was refused on a full disk"
            code, answer = refused
            assert (code, answer["error"]["code"]) == (507, "disk_full"), answer
            assert "disk failed" in answer["error"]["message"]
            assert "space" in answer["error"]["message"].lower()
            while True:  # the trainer's next write fails: it pauses, it does not fail
                status = await get(http, daemon, "/api/status")
                assert status["state"] not in ("failed", "finished"), daemon.log()
                if status["phase"] == "paused_io_error":
                    break
                await asyncio.sleep(0.3)
            assert status["state"] == "paused"
            paused_at = status["step"]

            filler.unlink()  # space is back: training goes on by itself
            while (status := await get(http, daemon, "/api/status"))["state"] != "finished":
                assert status["state"] != "failed", daemon.log()
                await asyncio.sleep(0.5)
            assert status["step"] == STEPS > paused_at
            code, rid = await rate(http, daemon, sample)
            assert code == 201
            acked.append(rid)
            stored = {r["id"] for r in (await get(http, daemon, "/api/ratings"))["ratings"]}
            assert set(acked) <= stored
        assert "paused_io_error" in phases
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    finally:
        assert daemon.stop() == 0, daemon.log()
    store = RatingsStore(run_dir / "ratings.sqlite")
    try:
        assert set(acked) <= {r.id for r in store.all()}
    finally:
        store.close()
    for name in ("metrics.jsonl", "samples.jsonl"):
        lines = (run_dir / name).read_text().splitlines()
        assert lines
        for line in lines:
            json.loads(line)  # no torn line
    steps = [
        json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(steps)
    assert steps[-1] == STEPS


def test_an_unrecognised_write_failure_on_a_full_disk_is_a_disk_error(small_disk: Path) -> None:
    """torch reports a checkpoint that hit a full disk as RuntimeError("unexpected pos ..."),
    with no errno and none of the known wordings: the probe write decides."""
    from rlaif_tui.daemon.disk import disk_error

    torch_says = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
    assert disk_error(torch_says, small_disk) is None  # space left: a real bug, raised
    filler = fill(small_disk)
    reason = disk_error(torch_says, small_disk)
    assert reason is not None
    assert "cannot be written" in reason
    filler.unlink()
    assert disk_error(torch_says, small_disk) is None
