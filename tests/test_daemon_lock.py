"""One process per run directory: a second `rlaif daemon` or `rlaif train` on a served run is
refused (one line naming the holder's pid, exit 2) and changes nothing; a `daemon.json` left
by a dead daemon is replaced. Real daemons on 127.0.0.1 (smoke config)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.daemon_helpers import RLAIF, SMOKE, start_daemon

pytestmark = [pytest.mark.slow]


def second(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RLAIF), *command], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_second_process_on_a_served_run_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = start_daemon(run_dir, "--paused")
    try:
        token = (run_dir / "token").read_text()
        info = (run_dir / "daemon.json").read_text()
        for command in (
            ["daemon", "--config", str(SMOKE), "--port", "0", "--run-dir", str(run_dir)],
            ["daemon", "--config", str(SMOKE), "--port", "0", "--resume", str(run_dir)],
            ["train", "--config", str(SMOKE), "--run-dir", str(run_dir), "--steps", "1"],
        ):
            done = second(*command)
            assert done.returncode == 2, done.stderr
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, done.stderr
            assert f"in use by pid {first.process.pid}" in lines[0]
            assert str(run_dir) in lines[0]
        assert (run_dir / "token").read_text() == token  # the first daemon's clients still work
        assert (run_dir / "daemon.json").read_text() == info
        assert first.process.poll() is None
        assert not (run_dir / "metrics.jsonl").exists()  # nobody trained: the first is paused
    finally:
        assert first.stop() == 0, first.log()


def test_a_stale_daemon_json_from_a_dead_pid_is_replaced(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = {"url": "http://127.0.0.1:9", "pid": dead.pid, "started_at": 1.0}
    (run_dir / "daemon.json").write_text(json.dumps(stale))
    live = start_daemon(run_dir, "--paused", keep_info=True)
    try:
        info = json.loads((run_dir / "daemon.json").read_text())
        assert info["pid"] == live.process.pid
        assert info["url"] == live.url
        assert f"stale {run_dir / 'daemon.json'} (pid {dead.pid} is not running)" in live.log()
    finally:
        live.stop()
    assert not (run_dir / "daemon.json").exists()
