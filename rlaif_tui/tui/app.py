"""`RlaifApp`: follows a daemon's event stream, sends ratings and control, shows the run.

Workers do the I/O (the event stream, ratings, control, settings, the demo daemon) and post
messages (`tui/messages.py`); handlers fold them into `RunModel`; a 15 Hz tick redraws the
active screen from the model when it changed, so a burst of frames costs one redraw.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType

from rlaif_tui.api import ApiError, ControlAction, DaemonClient, SettingsPatch
from rlaif_tui.tui import messages as m
from rlaif_tui.tui.app_base import RunApp
from rlaif_tui.tui.commands import RlaifCommands
from rlaif_tui.tui.discover import (
    DemoDaemon,
    Target,
    TargetError,
    resume_command,
    shown_path,
)
from rlaif_tui.tui.feed import EventSource
from rlaif_tui.tui.landing import Landing
from rlaif_tui.tui.rating_desk import RatingDesk
from rlaif_tui.tui.ratings_queue import default_state_dir
from rlaif_tui.tui.run_model import RunModel
from rlaif_tui.tui.screens.base import RunScreen
from rlaif_tui.tui.screens.connection import ConnectionScreen
from rlaif_tui.tui.screens.dashboard import DashboardScreen
from rlaif_tui.tui.screens.dialogs import ConfirmScreen, SettingsScreen
from rlaif_tui.tui.screens.help import HelpScreen
from rlaif_tui.tui.screens.rating import RatingScreen
from rlaif_tui.tui.screens.samples import SamplesScreen
from rlaif_tui.tui.widgets.run_header import HeaderInfo, RunHeader

ZERO_VARIANCE_WINDOW = 5
"""Steps averaged for the header's zero-variance warning (one odd step does not warn)."""
REFRESH_HZ = 15
"""Redraws per second at most, however many frames arrive."""


VIEWS = Binding.Group("Views")


class RlaifApp(RunApp):
    CSS_PATH = "app.tcss"
    TITLE = "rlaif-tui"
    COMMANDS = App.COMMANDS | {RlaifCommands}
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "samples": SamplesScreen,
        "rate": RatingScreen,
    }
    DEFAULT_MODE = "dashboard"
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 (textual declares it an instance variable)
        (0, "-narrow"),
        (120, "-wide"),
    ]
    # Order is the footer's order after the current view's keys: help and quit first, so an
    # 80-column footer never cuts them off.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("d", "switch_mode('dashboard')", "Dashboard", group=VIEWS),
        Binding("s", "switch_mode('samples')", "Samples", group=VIEWS),
        Binding("r", "switch_mode('rate')", "Rate", group=VIEWS),
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("k", "checkpoint", "Checkpoint"),
        Binding("x", "stop", "Stop run"),
        Binding("e", "settings", "Settings"),
    ]

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        feed: EventSource | None = None,
        state_dir: Path | None = None,
        undo_window_s: float = 3.0,
        rater: str | None = None,
        demo: DemoDaemon | None = None,
        can_start_demo: bool = False,
        target: Target | None = None,
    ) -> None:
        super().__init__()
        self.target = target
        """Where the daemon was found (`--run`, the demo, or `runs/`); None for a bare URL."""
        self.url = url
        self.client = DaemonClient(url, token) if url else None
        self.feed: EventSource | None = feed or self.client
        self.model = RunModel()
        self.desk = RatingDesk(state_dir or default_state_dir(), undo_window_s=undo_window_s)
        if rater:
            self.desk.rater = rater
        self.demo = demo
        self.can_start_demo = can_start_demo or demo is not None
        self.keep_demo = False
        self.connection = "replay" if self.client is None and feed else "connecting"
        self.connection_detail = ""
        self.ever_connected = False
        self._sending = False
        self._retry = asyncio.Event()
        self.run_config: dict[str, Any] | None = None
        """The run's config (`GET /api/config`), once connected."""
        self._landing_due = asyncio.Event()
        self.landing: Landing | None = None
        """Where the newest rating of this session landed (the rating view shows it)."""

    # -- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(1 / REFRESH_HZ, self._tick)
        if self.demo is not None and self.client is None:
            self.start_demo()
        elif self.feed is not None:
            self.follow()
        else:
            self.push_screen(ConnectionScreen("none"))

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close()

    @property
    def resume_hint(self) -> str:
        """The command that brings the run's daemon back (empty when the run dir is unknown)."""
        return resume_command(self.run_dir) if self.run_dir is not None else ""

    def connect(self, url: str, token: str | None) -> None:
        self.url = url
        self.client = DaemonClient(url, token)
        self.feed = self.client
        self.follow()

    def _tick(self) -> None:
        if isinstance(self.screen, RunScreen) and self.screen.ready:
            self.sync_screen(self.screen)
        self._send_due()

    def sync_screen(self, screen: RunScreen, *, force: bool = False) -> None:
        headers = screen.query(RunHeader)
        if not headers:  # the screen is being torn down
            return
        header = headers.first()
        header.connection = self.connection
        header.show(
            HeaderInfo(
                self.model.status,
                self.model.recent_mean("groups/zero_variance", ZERO_VARIANCE_WINDOW),
                self.desk.session_acked,
                self.model.run_ratings,
                self.desk.queued,
                self.connection_detail,
                self.resume_hint,
            )
        )
        screen.sync(force)

    @on(m.EventReceived)
    def _event(self, message: m.EventReceived) -> None:
        event = message.event
        self.model.apply(event)
        if self.model.status is not None:
            self.desk.open(self.model.status.run)
            self._check_landing()
        if event.type == "error":
            self.notify(
                str(event.data.get("message", event.data)), title="Daemon error", severity="error"
            )

    @on(m.ConnectionChanged)
    def _connection(self, message: m.ConnectionChanged) -> None:
        self.connection, self.connection_detail = message.state, message.detail
        detail = ": ".join(part for part in (message.detail, message.error) if part)
        shown = self.screen if isinstance(self.screen, ConnectionScreen) else None
        if message.state == "connected":
            self.ever_connected = True
            self.load_config()
            if shown is not None:
                self.pop_screen()
            return
        if message.state == "unauthorized" or not self.ever_connected:
            kind = "unauthorized" if message.state == "unauthorized" else "unreachable"
            if shown is not None:
                shown.update(kind, detail)
            else:
                self.push_screen(ConnectionScreen(kind, detail))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, ConnectionScreen):
            return action in ("quit", "help", "command_palette", "retry")
        return True

    # -- control and settings --------------------------------------------------------------

    def _require_client(self) -> DaemonClient | None:
        if self.client is None:
            self.notify("not connected to a daemon", severity="warning")
        return self.client

    def action_toggle_pause(self) -> None:
        paused = self.model.status is not None and self.model.status.state == "paused"
        self.action_control("resume" if paused else "pause")

    def action_checkpoint(self) -> None:
        self.action_control("checkpoint")

    def action_control(self, action: ControlAction) -> None:
        if self._require_client() is not None:
            self.notify(f"{action}: asking the daemon…", timeout=2)
            self.run_control(action)

    @work(group="control", exit_on_error=False)
    async def run_control(self, action: ControlAction) -> None:
        assert self.client is not None
        try:
            status = await self.client.control(action)
        except ApiError as exc:
            self.post_message(m.ActionFailed(action, exc))
            return
        self.post_message(m.ControlAcknowledged(action, status))

    @on(m.ControlAcknowledged)
    def _control_done(self, message: m.ControlAcknowledged) -> None:
        self.model.set_status(message.status)
        s = message.status
        where = f" ({s.last_checkpoint})" if message.action == "checkpoint" else ""
        self.notify(
            f"daemon acknowledged {message.action}{where}: {s.state} at step {s.step}",
            title="Run control",
        )

    @on(m.ActionFailed)
    def _failed(self, message: m.ActionFailed) -> None:
        self.notify(f"{message.what} failed: {message.error.message}", severity="error")

    def action_stop(self) -> None:
        if self._require_client() is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_control("stop")

        question = "Stop the run?\n\nThe daemon checkpoints and stops training."
        self.push_screen(ConfirmScreen(question, "Stop", "Keep running"), answered)

    def action_settings(self) -> None:
        if self._require_client() is None or self.model.status is None:
            return

        def submitted(patch: SettingsPatch | None) -> None:
            if patch is not None and patch.model_dump(exclude_none=True):
                self.apply_settings(patch)

        self.push_screen(SettingsScreen(self.model.status.settings), submitted)

    @work(group="settings", exit_on_error=False)
    async def apply_settings(self, patch: SettingsPatch) -> None:
        assert self.client is not None
        try:
            settings = await self.client.update_settings(patch)
        except ApiError as exc:
            self.post_message(m.ActionFailed("settings", exc))
            return
        self.post_message(m.SettingsAcknowledged(settings))

    @on(m.SettingsAcknowledged)
    def _settings_done(self, message: m.SettingsAcknowledged) -> None:
        self.model.set_settings(message.settings)
        s = message.settings
        self.notify(
            f"daemon applied: β {s.kl_coef:g}, temperature {s.temperature:g}, weights "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(s.reward_weights.items())),
            title="Settings",
        )

    def action_retry(self) -> None:
        self.retry_now()

    # -- the demo daemon -------------------------------------------------------------------

    def start_demo(self) -> None:
        if self.demo is None:
            try:
                self.demo = DemoDaemon()
            except TargetError as exc:
                self.notify(str(exc), severity="error")
                return
        screen = self.screen
        if isinstance(screen, ConnectionScreen):
            screen.update("starting", f"run dir {self.demo.run_dir}")
        else:
            self.push_screen(ConnectionScreen("starting", f"run dir {self.demo.run_dir}"))
        self.run_demo()

    @work(thread=True, group="demo", exit_on_error=False)
    def run_demo(self) -> None:
        assert self.demo is not None
        try:
            target = self.demo.start()
        except TargetError as exc:
            self.post_message(m.DemoFailed(str(exc)))
            return
        self.post_message(m.DemoStarted(target))

    @on(m.DemoStarted)
    def _demo_started(self, message: m.DemoStarted) -> None:
        self.target = message.target
        self.connect(message.target.url, message.target.token)

    @on(m.DemoFailed)
    def _demo_failed(self, message: m.DemoFailed) -> None:
        if isinstance(self.screen, ConnectionScreen):
            self.screen.update("none", message.message)

    # -- help and quit ---------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(
            HelpScreen(
                [
                    ("Everywhere", list(self.BINDINGS)),
                    ("Samples", list(SamplesScreen.BINDINGS)),
                    ("Rating", list(RatingScreen.BINDINGS)),
                    ("Connection screen", list(ConnectionScreen.BINDINGS)),
                ]
            )
        )

    async def action_quit(self) -> None:
        if isinstance(self.screen, ConnectionScreen) and self.screen.kind != "starting":
            self.exit(return_code=1)  # quitting an error screen: scripts see the failure
            return
        demo_running = self.demo is not None and self.demo.running
        queued = self.desk.queued
        if not demo_running and not queued:
            self.exit()
            return
        unsent = ""
        if queued:
            unsent = (
                f"{queued} rating{'s' if queued != 1 else ''} not sent yet: kept on this "
                "machine and sent when you connect to this run again.\n\n"
            )
        if not demo_running:

            def leave(yes: bool | None) -> None:
                if yes:
                    self.exit()

            self.push_screen(ConfirmScreen(unsent + "Quit?", "Quit", "Stay"), leave)
            return
        assert self.demo is not None

        def answered(stop: bool | None) -> None:
            if stop is None:
                return
            self.keep_demo = not stop
            self.exit()

        question = (
            f"{unsent}The demo daemon is still running ({shown_path(self.demo.run_dir)}).\n\n"
            "Stop it, or keep it training and quit?"
        )
        self.push_screen(ConfirmScreen(question, "Stop it", "Keep it running"), answered)
