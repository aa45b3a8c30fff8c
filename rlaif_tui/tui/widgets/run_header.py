"""Two lines on top of every screen: connection, run state, progress, model and counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rlaif_tui.api import Status

CONNECTION_LABELS = {
    "connecting": "◌ connecting",
    "connected": "● connected",
    "reconnecting": "◌ reconnecting",
    "offline": "○ offline",
    "unauthorized": "✖ wrong token",
    "replay": "● replay",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "–"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


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
    """Connection detail, e.g. `retry in 4s` or the daemon's URL."""


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
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(CONNECTION_LABELS.get(self.connection, self.connection), conn)
        if info is not None and info.detail and self.connection != "connected":
            line1.append(f" {info.detail}", dim)
        status = info.status if info else None
        line2 = Text(no_wrap=True, overflow="ellipsis")
        if status is None:
            line2.append("no run yet", dim)
            return _two_lines(line1, line2)
        line1.append("  ")
        line1.append(f" {status.state.upper()} ", state_style)
        line1.append(f"  {status.run}  step {status.step}/{status.total_steps} ")
        bar_width = max(0, min(30, self.size.width - line1.cell_len - 16))
        line1.append(progress_bar(status.step, status.total_steps, bar_width), conn)
        line1.append(f" ETA {format_duration(status.eta_s)}", dim)
        assert info is not None
        line2.append(f"{status.algorithm} · {status.model} · {status.device} · ")
        line2.append(f"isolation {status.isolation}")
        if info.zero_variance is not None:
            line2.append(f" · zero-var {info.zero_variance:.0%}")
        line2.append(f" · rated {info.session_ratings}/{info.run_ratings}")
        if info.queued:
            line2.append(f" +{info.queued} queued", conn)
        line2.append(f" · {status.phase}", dim)
        return _two_lines(line1, line2)


def _two_lines(line1: Text, line2: Text) -> Text:
    text = Text("\n", no_wrap=True, overflow="ellipsis").join([line1, line2])
    text.no_wrap, text.overflow = True, "ellipsis"
    return text
