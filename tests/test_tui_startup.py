"""Start-up progress, end to end: trainer → daemon status → TUI header, and the daemon's log.

A real `rlaif daemon` on 127.0.0.1 (smoke config) with a short warm start built into an empty
cache (`RLAIF_TUI_CACHE` in the test's temp dir), so there is start-up work to report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rlaif_tui.api import Progress, Status
from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.widgets.run_header import RunHeader
from tests.daemon_helpers import start_daemon
from tests.test_tui_daemon import until

pytestmark = [pytest.mark.slow]

WARM_START = ("--set", "model.warm_start.steps=40", "--set", "model.warm_start.batch_size=4")


def test_progress_line_says_what_how_far_and_how_long() -> None:
    line = Progress(what="building warm start", done=531, total=600, eta_s=125.0).line()
    assert line == "building warm start 531/600, ETA 2m05s"
    assert Progress(what="loading model").line() == "loading model"


async def test_start_up_progress_shows_before_step_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLAIF_TUI_CACHE", str(tmp_path / "cache"))
    daemon = start_daemon(tmp_path / "run", *WARM_START, "--paused")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state")
        seen: list[tuple[int, str]] = []  # (step, progress line) of every status frame
        headers: list[str] = []
        set_status = app.model.set_status

        def spy(status: Status) -> None:  # every status the TUI folds in, not just polled ones
            set_status(status)
            if status.progress is not None:
                seen.append((status.step, status.progress.line()))

        app.model.set_status = spy  # type: ignore[method-assign]
        async with app.run_test(size=(160, 48)) as pilot:

            def built() -> bool:
                headers.append(str(app.screen.query_one(RunHeader).render()))
                status = app.model.status
                return status is not None and status.progress is None

            await until(built, pilot, 600, "the trainer to be built (paused at step 0)")
            assert app.model.status is not None
            assert app.model.status.progress is None
            assert app.model.status.step == 0
        lines = [line for _, line in seen]
        assert all(step == 0 for step, _ in seen)
        # How many phases the TUI sees before the warm start depends on how soon it connects
        # (the daemon log below has every one of them); each line names a start-up phase.
        phases = ("loading training code", "loading model", "building warm start", "starting")
        assert all(line.startswith(phases) for line in lines), lines
        warm = [line for line in lines if line.startswith("building warm start")]
        assert warm, f"no warm-start progress seen, only {lines}"
        assert warm[-1] == "building warm start 40/40" or warm[-1].startswith(
            "building warm start 40/40,"
        )
        assert any(", ETA " in line for line in warm), warm
        assert "starting sandbox" in lines
        shown = [h for h in headers if "building warm start" in h]
        assert shown, "the header never showed the warm start"
        assert "PAUSED" in shown[-1]  # started with --paused: paused, and still building
    finally:
        daemon.stop()
    log = daemon.log_path.read_text()
    assert "starting: building warm start 40/40" in log  # what `rlaif daemon` prints
    assert "starting: loading training code" in log
    assert "starting: loading model" in log
    assert "starting: starting sandbox" in log
