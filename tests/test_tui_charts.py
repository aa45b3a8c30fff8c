"""Charts a person can read: moving average, baseline, step labels, domain, settings markers.

The marker test drives a real `rlaif daemon` (smoke config, 127.0.0.1) through the TUI's own
settings dialog, and checks a second TUI that connects later gets the marker from the
daemon's snapshot (the run's `settings.jsonl`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.screens.dashboard import CHARTS, DashboardScreen
from rlaif_tui.tui.widgets.chart import Chart, ChartSpec, Line, moving_average
from tests.daemon_helpers import start_daemon
from tests.test_tui_daemon import until


def test_moving_average_is_trailing() -> None:
    points = [(1, 0.0), (2, 1.0), (3, 1.0), (4, 0.0)]
    assert moving_average(points, 2) == [(1, 0.0), (2, 0.5), (3, 1.0), (4, 0.5)]


def test_axis_row_labels_first_middle_and_last_step() -> None:
    row = Chart._axis_row(1, 24, 30)
    assert len(row) == 30
    assert row.startswith("1 ")
    assert row.endswith(" 24")
    assert " 12 " in row


def test_range_is_clipped_to_the_domain() -> None:
    chart = Chart(ChartSpec((Line("pass/rate"),), domain=(0.0, 1.0)))
    chart.set_data({"pass/rate": [(1, 0.2), (2, 0.9)]})
    assert chart._ranges() == (1, 2, 0.0, 1.0)
    band = Chart(ChartSpec((Line("reward/mean"),), band=("reward/mean", "reward/std")))
    band.set_data({"reward/mean": [(1, 0.2), (2, 0.9)], "reward/std": [(1, 0.5), (2, 0.5)]})
    assert band._ranges() == (1, 2, 0.2, 0.9)  # the band does not stretch the axis


@pytest.mark.slow
async def test_a_live_settings_change_is_marked_on_every_chart(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "run", "--steps", "4", "--paused")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state")
        async with app.run_test(size=(160, 48)) as pilot, daemon.client() as client:
            await until(
                lambda: app.model.status is not None and app.model.status.progress is None,
                pilot,
                300,
                "the trainer",
            )
            await client.control("resume")
            await until(lambda: len(app.model.series("reward/mean")) >= 1, pilot, 300, "step 1")
            await client.control("pause")
            await until(
                lambda: app.model.status is not None and app.model.status.state == "paused",
                pilot,
                120,
                "paused",
            )
            await pilot.press("e")
            box = app.screen.query_one("#temperature", Input)
            box.value = "0.7"
            box.focus()
            await pilot.press("enter")
            await until(lambda: app.model.settings_marks, pilot, 120, "the settings marker")
            step, what = app.model.settings_marks[0]
            assert what == "temperature 1→0.7"
            await client.control("resume")
            await until(
                lambda: len(app.model.series("reward/mean")) >= step + 2, pilot, 300, "more steps"
            )
            await pilot.pause(0.5)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            for chart in screen.query(Chart):
                assert chart.marks == [step], chart.key
            strip = str(screen.query_one("#settings-strip", Static).render())
            assert f"┊ changed at step {step}: temperature 1→0.7" in strip

        later = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state2")
        async with later.run_test(size=(80, 24)) as pilot:
            await until(lambda: later.model.settings_marks, pilot, 60, "the snapshot's marker")
            assert later.model.settings_marks == [(step, "temperature 0.7")]
    finally:
        daemon.stop()


@pytest.mark.slow
async def test_the_matched_control_is_drawn_dimmed_beside_the_pass_rate(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "run", "--steps", "4", "--set", "run.control=true")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state")
        async with app.run_test(size=(160, 48)) as pilot:

            def four_steps() -> bool:
                if app.model.status is not None and app.model.status.state == "failed":
                    pytest.fail(f"the run failed: {daemon.log()}")
                return len(app.model.series("control/pass/rate")) >= 4

            await until(four_steps, pilot, 600, "4 steps of the run and its control")
            await pilot.pause(0.5)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            chart = screen.query_one("#chart-pass-rate", Chart)
            title = str(chart.border_title)
            assert "[$text-muted]━[/$text-muted] control (lr 0)" in title  # dimmed legend
            assert title.index("pass/rate") < title.index("control (lr 0)")
            chart.render()
            # painted under the run's line (it may hide behind it where the two agree), dimmed
            control = chart.painted["chart--control"]
            assert any(any(row) for row in control.grid)
            assert control.style == chart.get_component_rich_style("chart--control")
            assert control.style.color != chart.get_component_rich_style("chart--main").color
    finally:
        daemon.stop()


def test_a_control_line_joins_the_legend_only_with_points() -> None:
    chart = Chart(CHARTS[1])
    chart.set_data({"pass/rate": [(1, 0.5), (2, 0.6)]})
    assert "control" not in str(chart.border_title)  # a run without one: as before
    chart.set_data({"pass/rate": [(1, 0.5)], "control/pass/rate": [(1, 0.4)]})
    assert "control (lr 0)" in str(chart.border_title)
