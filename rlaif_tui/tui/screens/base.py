"""What every mode screen shares: the run header on top, the footer below, and `sync`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from rlaif_tui.tui.widgets.run_header import RunHeader

if TYPE_CHECKING:
    from rlaif_tui.tui.app import RlaifApp


class RunScreen(Screen[None]):
    """A mode screen. The app calls `sync` on its refresh tick when the run model changed."""

    def compose_header(self) -> ComposeResult:
        yield RunHeader()

    def compose_footer(self) -> ComposeResult:
        yield Footer()

    @property
    def rlaif(self) -> RlaifApp:
        return cast("RlaifApp", self.app)

    ready = False
    """True once composed and mounted: the app's tick syncs only ready screens."""

    def on_mount(self) -> None:
        self.ready = True
        self.rlaif.sync_screen(self, force=True)

    def on_screen_resume(self) -> None:
        if self.ready:
            self.rlaif.sync_screen(self, force=True)

    _last_rebuild = 0.0

    def rebuild_due(self, force: bool, interval_s: float = 1.0) -> bool:
        """Lists (the samples table, the rating queue) rebuild at most once per `interval_s`
        while frames stream in: rebuilding a few hundred rows at 15 Hz would flicker."""
        now = time.monotonic()
        if force or now - self._last_rebuild >= interval_s:
            self._last_rebuild = now
            return True
        return False

    def sync(self, force: bool) -> None:
        """Redraw from `self.rlaif.model`; `force` after the screen was away."""
