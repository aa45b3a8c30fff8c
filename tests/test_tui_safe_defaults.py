"""Safe defaults, against a real daemon the TUI started itself (the demo path, smoke config):
enter on the quit dialog keeps the run, the dialog counts ratings not yet sent, the 80x24
footer keeps `?`, `q` and the view's keys, and escape clears the samples filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey

from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.discover import DemoDaemon
from rlaif_tui.tui.screens.dashboard import DashboardScreen
from rlaif_tui.tui.screens.dialogs import ConfirmScreen
from rlaif_tui.tui.screens.samples import SamplesScreen
from tests.daemon_helpers import SMOKE
from tests.test_tui_daemon import rate_shown_samples, until

pytestmark = [pytest.mark.slow]


def visible_keys(app: RlaifApp) -> set[str]:
    """Footer keys drawn entirely left of the command palette key (which covers the rest)."""
    keys = list(app.screen.query_one(Footer).query(FooterKey))
    limit = min(k.region.x for k in keys if k.key == "ctrl+p")
    return {k.key_display for k in keys if k.region.width and k.region.right <= limit}


async def test_defaults_keep_the_run_and_the_ratings(tmp_path: Path) -> None:
    demo = DemoDaemon(config=SMOKE, runs_root=tmp_path / "runs")
    app = RlaifApp(state_dir=tmp_path / "state", undo_window_s=600, demo=demo)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: app.connection == "connected", pilot, 300, "the demo daemon")
            await until(lambda: isinstance(app.screen, DashboardScreen), pilot, 30, "dashboard")
            await pilot.pause(0.3)
            assert {"?", "q", "d", "s", "r"} <= visible_keys(app)
            await rate_shown_samples(app, pilot, ["4"])
            await pilot.pause(0.3)
            assert {"1", "2", "3", "4", "5", "v", "n", "u", "c", "?", "q"} <= visible_keys(app)

            await pilot.press("s")
            await until(lambda: isinstance(app.screen, SamplesScreen), pilot, 10, "samples")
            screen = app.screen
            assert isinstance(screen, SamplesScreen)
            await pilot.pause(0.3)
            assert {"/", "o", "g", "?", "q"} <= visible_keys(app)
            await pilot.press("slash")
            screen.query_one("#filter", Input).value = "status:passed"
            await pilot.press("enter")
            assert screen.filter.status == "passed"
            await pilot.press("escape")
            assert screen.filter.status is None
            assert screen.query_one("#filter", Input).value == ""

            assert app.desk.queued == 1  # inside its 600 s undo window: not sent
            await pilot.press("q")
            await until(lambda: isinstance(app.screen, ConfirmScreen), pilot, 10, "the dialog")
            question = str(app.screen.query_one(".dialog-question", Static).render())
            assert "1 rating not sent yet" in question
            assert "demo daemon is still running" in question
            await pilot.press("enter")  # the default
        assert app.keep_demo
        assert demo.running, "enter on the quit dialog stopped the run"
    finally:
        demo.stop()
