"""Exact resume: kill -9 a real `rlaif train` mid-run, `--resume` it, compare with a clean run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STEPS = 6
ARGS = [
    "--config",
    str(REPO / "configs" / "smoke.yaml"),
    "--steps",
    str(STEPS),
    "--set",
    "reward.weights={syntax: 1.0}",
    "--set",
    "run.checkpoint_every=1",
    "--set",
    "data.limit=40",  # 6 steps x 8 prompts > 40: crosses: crosses an epoch boundary
    "--set",
    "rollout.prompts_per_step=8",
]


def rlaif(*args: str) -> list[str]:
    return [sys.executable, "-m", "rlaif_tui.cli.main", "train", *args]


def steps_logged(run: Path) -> list[int]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError, KeyError):  # a line being written right now
            out.append(json.loads(line)["step"])
    return out


def by_step(run: Path) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for line in (run / "samples.jsonl").read_text().splitlines():
        s = json.loads(line)
        out.setdefault(s["step"], []).append((s["problem_id"], s["completion"]))
    return out


@pytest.mark.slow
def test_kill_9_then_resume_continues_exactly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    clean = tmp_path / "clean"
    subprocess.run(
        rlaif(*ARGS, "--run-dir", str(clean)), check=True, env=env, timeout=300, capture_output=True
    )
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        rlaif(*ARGS, "--run-dir", str(killed)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and max(steps_logged(killed), default=0) < 3:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    reached = max(steps_logged(killed))
    assert 3 <= reached < STEPS
    latest = (killed / "checkpoints" / "latest").read_text().strip()
    saved = int(latest.split("-")[1])
    assert saved >= reached - 1  # checkpoint every step: at most the step in flight is lost

    out = subprocess.run(
        rlaif("--resume", str(killed)), env=env, timeout=300, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "resumed from" in out.stderr
    first_line = next(x for x in out.stdout.splitlines() if x.startswith("step "))
    assert first_line.startswith(f"step {saved + 1}/{STEPS}")
    assert steps_logged(killed) == list(range(1, STEPS + 1))  # no step twice, none missing
    # Same prompts in the same order, and (same weights, optimizer and RNG) same samples.
    assert by_step(killed) == by_step(clean)
