"""Connection truth against a real `rlaif daemon` (smoke config, 127.0.0.1): a killed daemon
shows as unreachable within seconds, the header names the exact resume command, a resumed
daemon on a new port is found without restarting the TUI, and `--resume` keeps the old port."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.discover import TargetError, read_run_dir, resume_command
from rlaif_tui.tui.screens.connection import ConnectionScreen
from rlaif_tui.tui.widgets.run_header import RunHeader
from tests.daemon_helpers import REPO, start_daemon
from tests.test_tui_daemon import until

pytestmark = [pytest.mark.slow]


def header_text(app: RlaifApp) -> str:
    return str(app.screen.query_one(RunHeader).render())


async def test_killed_daemon_is_unreachable_within_5s_and_resume_is_found(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    first = start_daemon(run_dir, "--paused")
    second = None
    try:
        target = read_run_dir(run_dir)
        app = RlaifApp(target.url, target.token, state_dir=tmp_path / "state", target=target)
        async with app.run_test(size=(160, 48)) as pilot:
            await until(lambda: app.model.status is not None, pilot, 120, "the first status")
            await until(lambda: app.connection == "connected", pilot, 30, "connected")
            first.process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            first.process.wait(10)  # reaped, as a daemon that is not our child would be
            await until(lambda: app.connection == "unreachable", pilot, 5, "unreachable")
            assert time.monotonic() - killed_at < 5
            await pilot.pause(0.2)
            shown = header_text(app)
            assert "unreachable" in shown
            assert "RUNNING" not in shown
            assert "PAUSED" not in shown
            assert f"resume: {resume_command(run_dir)}" in shown

            second = start_daemon(run_dir, "--resume", str(run_dir), "--paused")
            new_url = second.url
            assert new_url != first.url
            await until(
                lambda: app.connection == "connected" and app.url == new_url,
                pilot,
                60,
                "the TUI to follow daemon.json to the resumed daemon",
            )
            await until(
                lambda: app.model.status is not None and app.model.status.state == "paused",
                pilot,
                180,
                "the resumed daemon's status",
            )
            assert not isinstance(app.screen, ConnectionScreen)
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_resume_reuses_the_previous_port_when_free(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = start_daemon(run_dir, "--paused")
    port = first.url.rsplit(":", 1)[1]
    assert first.stop() == 0
    last = json.loads((run_dir / "daemon.last.json").read_text())
    assert (last["url"], last["code"], last["step"]) == (first.url, 0, 0)
    second = start_daemon(run_dir, "--resume", str(run_dir), "--paused", port=None)
    try:
        assert second.url == first.url, f"wanted port {port}, got {second.url}"
    finally:
        second.stop()


def test_run_dir_that_does_not_exist_is_not_offered_for_resume(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as error:
        read_run_dir(tmp_path / "nope")
    assert "no such run directory" in str(error.value)
    assert "--resume" not in str(error.value)
    out = subprocess.run(
        [str(Path(sys.executable).parent / "rlaif-tui"), "--run", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert out.returncode != 0
    assert "no such run directory" in out.stderr
    assert "--resume" not in out.stderr


def test_a_stopped_run_without_daemon_names_the_exact_resume_command(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    with pytest.raises(TargetError) as error:
        read_run_dir(tmp_path / "run")
    command = resume_command(tmp_path / "run")
    assert command in str(error.value)
    executable = command.split()[0]
    assert executable == "rlaif" or Path(executable).is_file()  # runnable as printed


async def test_quitting_an_error_screen_exits_non_zero(tmp_path: Path) -> None:
    app = RlaifApp("http://127.0.0.1:9", "token", state_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, ConnectionScreen), pilot, 30, "the error")
        await pilot.press("q")
        await pilot.pause(0.2)
    assert app.return_code == 1
