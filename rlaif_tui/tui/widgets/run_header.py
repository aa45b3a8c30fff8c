"""Two lines on top of every screen: connection, run state, progress, model and counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rlaif_tui.api import Status
from rlaif_tui.api.models import format_duration

CONNECTION_LABELS = {
    "connecting": "◌ connecting",
    "connected": "● connected",
    "reconnecting": "◌ reconnecting",
    "unreachable": "✖ unreachable",
    "exited": "✖ daemon exited",
    "offline": "○ offline",
    "unauthorized": "✖ wrong token",
    "replay": "● replay",
}
LIVE = ("connected", "replay")
"""Connection states in which the status shown is the daemon's current one."""

IO_ERROR_PHASE = "paused_io_error"
IO_ERROR_LINE = "⏸ paused: disk full or I/O error — free space; it resumes by itself"
"""What the header says while the trainer waits on a failed write (daemon phase
`paused_io_error`, state `paused`): the run is not lost, and the fix is on the disk."""

ZERO_VARIANCE_WARN = 0.5
"""Share of groups whose rewards are all equal above which the header warns: such groups get
advantage 0, so GRPO learns from the rest only."""


def progress_bar(done: int, total: int, width: int) -> str:
    if total <= 0 or width <= 0:
        return ""
    filled = round(width * min(done, total) / total)
    return "━" * filled + "─" * (width - filled)


@dataclass(frozen=True)
class HeaderInfo:
    status: Status | None
    zero_variance: float | None
    session_ratings: int
    run_ratings: int
    queued: int
    detail: str = ""
    """Connection detail, e.g. `retry in 4s` or `code -9 at step 12`."""
    resume: str = ""
    """The command that brings the daemon back, shown while it is gone."""


class RunHeader(Widget):
    """Reactive state shows as CSS classes (`-paused`, `-connected`, ...): app.tcss colours it."""

    connection: reactive[str] = reactive("connecting")
    paused: reactive[bool] = reactive(False)
    state: reactive[str] = reactive("")
    info: reactive[HeaderInfo | None] = reactive(None)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "run-header--conn",
        "run-header--state",
        "run-header--dim",
        "run-header--warn",
    }

    def watch_connection(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    def watch_paused(self, paused: bool) -> None:
        self.set_class(paused, "-paused")

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"-state-{old}")
        self.add_class(f"-state-{new}")

    def show(self, info: HeaderInfo) -> None:
        self.info = info
        status = info.status
        self.state = status.state if status else ""
        self.paused = status is not None and status.state == "paused"

    def render(self) -> Text:
        info = self.info
        conn = self.get_component_rich_style("run-header--conn")
        state_style = self.get_component_rich_style("run-header--state")
        dim = self.get_component_rich_style("run-header--dim")
        warn = self.get_component_rich_style("run-header--warn")
        live = self.connection in LIVE
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(CONNECTION_LABELS.get(self.connection, self.connection), conn)
        detail = info.detail if info is not None and not live else ""
        status = info.status if info else None
        line2 = Text(no_wrap=True, overflow="ellipsis")
        if status is None:
            if detail:
                line1.append(f" {detail}", dim)
            line2.append("no run yet", dim)
            return self._two_lines(line1, line2)
        assert info is not None
        line1.append("  ")
        if live:
            line1.append(f" {status.state.upper()} ", state_style)
        else:  # what we last heard, not what is true now
            line1.append(f"last seen {status.state}", dim)
        line1.append(f"  {status.run}  ")
        progress = status.progress
        if progress is not None:
            line1.append(progress.line())
            done, total = progress.done, progress.total
        else:
            line1.append(f"step {status.step}/{status.total_steps}")
            done, total = status.step, status.total_steps
        if done is not None and total:
            bar_width = max(0, min(30, self.size.width - line1.cell_len - 16))
            if not live:
                bar_width = 0
            line1.append(" ")
            line1.append(progress_bar(done, total, bar_width), conn)
        if live and progress is None:
            line1.append(f" ETA {format_duration(status.eta_s)}", dim)
        if detail:  # last: at 80 columns the retry countdown is what gets cut
            line1.append(f" · {detail}", dim)
        if not live and info.resume:
            line2.append("resume: ", warn)
            line2.append(info.resume)
            return self._two_lines(line1, line2)
        if live and status.phase == IO_ERROR_PHASE:  # first: at 80 columns the rest is cut
            line2.append(IO_ERROR_LINE, warn)
            line2.append(" · ")
        if info.zero_variance is not None and info.zero_variance >= ZERO_VARIANCE_WARN:
            line2.append(
                f"⚠ {info.zero_variance:.0%} of groups zero-variance: little learning signal",
                warn,
            )
            line2.append(" · ")
        line2.append(f"rated {info.session_ratings}/{info.run_ratings}")
        if info.queued:
            line2.append(f" +{info.queued} queued", conn)
        line2.append(f" · {status.phase}", dim)
        line2.append(f" · {status.algorithm} · {status.model} · {status.device} · ")
        line2.append(f"isolation {status.isolation}")
        if info.zero_variance is not None and info.zero_variance < ZERO_VARIANCE_WARN:
            line2.append(f" · zero-var {info.zero_variance:.0%}")
        return self._two_lines(line1, line2)

    def _two_lines(self, line1: Text, line2: Text) -> Text:
        """Each line cut to the width with an ellipsis (a wrapped line would push the second
        one out of the two-row header)."""
        width = max(1, self.content_size.width)
        for line in (line1, line2):
            line.truncate(width, overflow="ellipsis")
        text = Text("\n", no_wrap=True, overflow="ellipsis").join([line1, line2])
        text.no_wrap, text.overflow = True, "ellipsis"
        return text
