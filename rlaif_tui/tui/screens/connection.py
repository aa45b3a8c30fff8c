"""Shown while there is no usable daemon: unreachable, wrong token, or none found yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from rlaif_tui.tui.app import RlaifApp


def advice(kind: str, url: str | None, detail: str, can_start_demo: bool, resume: str = "") -> Text:
    text = Text()
    if kind == "unauthorized":
        text.append("The daemon rejected the token (401 unauthorized)\n\n", "bold")
        text.append(f"{url}\n\n", "underline")
        text.append(
            "The daemon writes its token into its run directory (file `token`).\n"
            "Connect with it:\n"
            "  rlaif-tui --run runs/<name>          (reads daemon.json and token)\n"
            "  rlaif-tui --url URL --token $(cat runs/<name>/token)\n"
        )
    elif kind == "none":
        text.append("No running daemon found\n\n", "bold")
        text.append(
            "No runs/*/daemon.json here names a live daemon that answers /api/health.\n\n"
            "Start one, then run rlaif-tui again:\n"
            "  rlaif daemon --config configs/quickstart.yaml\n"
            "Or point at one:\n"
            "  rlaif-tui --run runs/<name>          (reads daemon.json and token)\n"
            "  rlaif-tui --url http://HOST:PORT --token TOKEN\n"
        )
    elif kind == "starting":
        text.append("Starting the quickstart daemon…\n\n", "bold")
        text.append("rlaif daemon --config configs/quickstart.yaml (a child of this TUI)\n")
    else:
        text.append("Cannot reach the daemon\n\n", "bold")
        text.append(f"{url}\n\n", "underline")
        if resume:
            text.append("Is it running? Bring this run's daemon back with\n")
            text.append(f"  {resume}\n", "bold")
            text.append("(this screen finds it again, whatever port it gets)\n\n")
        else:
            text.append(
                "Is it running? Start one, or resume a stopped run:\n"
                "  rlaif daemon --config configs/quickstart.yaml\n"
                "  rlaif daemon --resume runs/<name>\n"
            )
        text.append(
            "For a remote daemon check the address, the port and the SSH tunnel\n"
            "  ssh -L 8765:127.0.0.1:8765 SERVER\n\n"
            "Retrying with backoff; r retries now.\n"
        )
    if detail:
        text.append(f"\n{detail}\n", "dim")
    if can_start_demo and kind in ("none", "unreachable"):
        text.append("\nPress d to start the quickstart daemon here.\n", "bold")
    return text


class ConnectionScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry now"),
        Binding("d", "demo", "Start quickstart daemon"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="connection-box"):
            yield Static(id="connection-text")
        yield Footer()

    @property
    def rlaif(self) -> RlaifApp:
        return cast("RlaifApp", self.app)

    def on_mount(self) -> None:
        self.update(self.kind, self.detail)

    def update(self, kind: str, detail: str = "") -> None:
        self.kind, self.detail = kind, detail
        self.set_class(kind == "unauthorized", "-unauthorized")
        app = self.rlaif
        text = advice(kind, app.url, detail, app.can_start_demo, app.resume_hint)
        self.query_one("#connection-text", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            return self.rlaif.can_start_demo and self.kind in ("none", "unreachable")
        if action == "retry":
            return self.kind not in ("none", "starting")
        return True

    def action_retry(self) -> None:
        self.rlaif.retry_now()

    def action_demo(self) -> None:
        self.rlaif.start_demo()
