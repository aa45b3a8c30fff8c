"""A run paused on a disk error says so in the TUI header: what happened, what to do, and
that it resumes by itself (daemon phase `paused_io_error`, state `paused`).

The header test renders a real `Status` as the daemon sends it; the end-to-end test fills a
small tmpfs under a real daemon while the TUI watches (`tests/test_daemon_disk.py`'s fixture;
skipped, saying so, where `mount -t tmpfs` is not allowed).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from rlaif_tui.api import Settings, Status
from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.widgets.run_header import IO_ERROR_LINE, HeaderInfo, RunHeader
from tests.daemon_helpers import start_daemon
from tests.test_daemon_disk import fill, small_disk  # noqa: F401  (the fixture)
from tests.test_tui_daemon import until


def status(phase: str, state: str = "paused") -> Status:
    return Status.model_validate(
        {
            "run": "demo",
            "state": state,
            "step": 3,
            "total_steps": 8,
            "phase": phase,
            "algorithm": "grpo",
            "model": "tiny",
            "device": "cpu",
            "isolation": "process",
            "started_at": time.time(),
            "settings": Settings(
                kl_coef=0.0, reward_weights={"execution": 1.0}, temperature=1.0
            ).model_dump(),
        }
    )


class HeaderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunHeader()


@pytest.mark.parametrize("width", [160, 80, 50])
async def test_the_header_says_the_disk_paused_the_run(width: int) -> None:
    app = HeaderApp()
    async with app.run_test(size=(width, 6)) as pilot:
        header = app.query_one(RunHeader)
        header.connection = "connected"
        header.show(HeaderInfo(status("paused_io_error"), None, 0, 0, 0))
        await pilot.pause()
        line1, line2 = header.render().plain.split("\n")
        assert " PAUSED " in line1
        assert header.has_class("-paused")
        if width >= len(IO_ERROR_LINE) + 2:
            assert line2.startswith(IO_ERROR_LINE)
        else:  # cut with an ellipsis, but what happened comes first
            assert line2.startswith("⏸ paused: disk full or I/O error")
        header.show(HeaderInfo(status("idle"), None, 0, 0, 0))  # paused by a person
        await pilot.pause()
        assert "disk" not in header.render().plain
        header.connection = "unreachable"  # what we last heard is not claimed as now
        header.show(HeaderInfo(status("paused_io_error"), None, 0, 0, 0))
        await pilot.pause()
        assert IO_ERROR_LINE not in header.render().plain


@pytest.mark.slow
async def test_a_full_disk_shows_in_the_header_and_clears_when_space_is_back(
    small_disk: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    daemon = start_daemon(
        small_disk / "run", "--steps", "200", "--set", "run.checkpoint_every=0", log_dir=tmp_path
    )
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state")
        async with app.run_test(size=(160, 48)) as pilot:
            header = app.screen.query_one(RunHeader)
            await until(lambda: app.model.series("reward/mean"), pilot, 600, "step 1")
            filler = fill(small_disk)
            await until(lambda: IO_ERROR_LINE in header.render().plain, pilot, 300, "the disk line")
            assert app.model.status is not None
            assert app.model.status.phase == "paused_io_error"
            filler.unlink()
            await until(
                lambda: IO_ERROR_LINE not in header.render().plain, pilot, 300, "the resume"
            )
    finally:
        assert daemon.stop() == 0, daemon.log()
