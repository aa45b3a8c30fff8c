"""Snapshots of the main screens, fed fixed frames (`tests/data/tui_events.jsonl`, seeded).

The frames come from `tests/tui_frames.py` through `ReplayFeed`: no daemon, no clock, so the
pictures only change when the UI does. `pytest --snapshot-update` accepts a changed picture
after a human has looked at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from rlaif_tui.api import Event
from rlaif_tui.tui import discover
from rlaif_tui.tui import messages as m
from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.discover import Target
from rlaif_tui.tui.feed import ReplayFeed
from rlaif_tui.tui.landing import Landing
from rlaif_tui.tui.screens.connection import ConnectionScreen
from rlaif_tui.tui.widgets.run_header import RunHeader
from tests.tui_frames import status

FRAMES = Path(__file__).parent / "data" / "tui_events.jsonl"
FEED_LAST_ID = ReplayFeed.from_jsonl(FRAMES).frames[-1].id
"""The snapshots are taken once the whole replay has been folded into the model."""


@pytest.fixture(autouse=True)
def frozen_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make two runs differ (harlequin does the same)."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def replay_app(tmp_path: Path) -> RlaifApp:
    return RlaifApp(
        feed=ReplayFeed.from_jsonl(FRAMES), state_dir=tmp_path, rater="tester", undo_window_s=60
    )


def loaded(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, RlaifApp)
        last = FEED_LAST_ID
        async with asyncio.timeout(60):  # generous: a loaded machine replays slowly
            while app.model.last_event_id != last:
                await pilot.pause(0.02)
        async with asyncio.timeout(60):  # and the screen's header has shown it
            while not any(
                h.info is not None and h.info.status is not None
                for h in app.screen.query(RunHeader)
            ):
                await pilot.pause(0.02)
        await pilot.pause(0.3)  # the charts' refresh tick after the header's
        await pilot.wait_for_scheduled_animations()
        for key in keys:
            await pilot.press(key)
            await pilot.wait_for_scheduled_animations()
            await pilot.pause(0.05)
        await pilot.pause(0.3)  # the screens' refresh tick (rebuilds are rate-limited)
        await pilot.wait_for_scheduled_animations()

    return run_before


def test_dashboard_80x24(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(80, 24), run_before=loaded())


def test_dashboard_160x48(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(160, 48), run_before=loaded())


def test_samples_80x24(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(80, 24), run_before=loaded("s", "down"))


def test_samples_group_side_by_side(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(160, 48), run_before=loaded("s", "g"))


def test_rating_queue_80x24(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(80, 24), run_before=loaded("r"))


def test_rating_ab_120x40(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(120, 40), run_before=loaded("r", "n", "v"))


def test_help_lists_every_key(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(80, 40), run_before=loaded("question_mark"))


def test_wrong_token_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = RlaifApp("http://127.0.0.1:9", "wrong", state_dir=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.workers.cancel_all()  # show the screen itself, not a live connection attempt
        await app.push_screen(ConnectionScreen("unauthorized", "401 unauthorized: bad token"))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_rating_landing_160x48(snap_compare: Any, replay_app: RlaifApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded()(pilot)
        app = pilot.app
        assert isinstance(app, RlaifApp)
        before = app.model.samples["s24-0-0"]
        reward = float(before["reward"]) + 0.25
        after = {**before, "reward": reward, "advantage": 0.62, "rewards": {"human": 1.0}}
        app.landing = Landing("r-1", "s24-0-0", 5, 24, True, before, after)
        await pilot.press("r")
        await pilot.pause(0.3)

    assert snap_compare(replay_app, terminal_size=(160, 48), run_before=run_before)


def test_rating_ab_80x24(snap_compare: Any, replay_app: RlaifApp) -> None:
    assert snap_compare(replay_app, terminal_size=(80, 24), run_before=loaded("r", "v"))


def _progress_feed() -> ReplayFeed:
    data = status(0, 40, state="starting")
    data["phase"] = "loading"
    data["progress"] = {"what": "building warm start", "done": 531, "total": 600, "eta_s": 125.0}
    return ReplayFeed([Event(id=1, type="snapshot", data={"status": data})])


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_start_up_progress_header(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = RlaifApp(feed=_progress_feed(), state_dir=tmp_path, rater="tester")

    async def run_before(pilot: Pilot[Any]) -> None:
        async with asyncio.timeout(60):
            while not any(
                h.info is not None and h.info.status is not None
                for h in app.screen.query(RunHeader)
            ):
                await pilot.pause(0.02)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_unreachable_daemon_header(
    snap_compare: Any,
    replay_app: RlaifApp,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    monkeypatch.setattr(discover, "command_path", lambda name: name)  # machine-independent

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded()(pilot)
        replay_app.ever_connected = True  # lost after being followed: the header says so
        replay_app.target = Target("http://127.0.0.1:1", None, Path("runs/snapshot-run"), 4242)
        replay_app.post_message(
            m.ConnectionChanged("unreachable", "pid 4242 gone at step 24 · retry in 2.0s (try 1)")
        )
        await pilot.pause(0.3)

    assert snap_compare(replay_app, terminal_size=size, run_before=run_before)


def test_quit_dialog_counts_pending_ratings_80x24(snap_compare: Any, replay_app: RlaifApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded("r", "4")(pilot)  # one rating queued (the replay is not a daemon)
        pilot.app.clear_notifications()  # the "scored 4" toast times out at its own pace
        await pilot.press("q")
        await pilot.pause(0.3)

    assert snap_compare(replay_app, terminal_size=(80, 24), run_before=run_before)
