"""Small modal screens: a yes/no confirmation and the live-settings editor."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from rlaif_tui.api import Settings, SettingsPatch


class ConfirmScreen(ModalScreen[bool | None]):
    """Returns True (yes), False (no) or None (escape: cancelled).

    "No" has the focus, so enter takes the safe answer: a dialog that can stop a run asks
    "stop?" and an absent-minded enter keeps it running."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(None)", "Cancel"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} [y]", variant="error", id="yes")
                yield Button(f"{self.no} [n]", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool | None) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class SettingsScreen(ModalScreen[SettingsPatch | None]):
    """Edit β, the KL target, temperature and reward weights; enter sends what changed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Settings) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        s = self.current
        with Vertical(classes="dialog", id="settings-dialog"):
            yield Static("Live settings — enter applies, escape cancels", classes="dialog-question")
            with Grid(id="settings-grid"):
                yield Label("β (kl_coef)")
                yield Input(f"{s.kl_coef:g}", id="kl_coef", type="number")
                yield Label("KL target")
                yield Input(
                    "" if s.kl_target is None else f"{s.kl_target:g}",
                    id="kl_target",
                    type="number",
                    placeholder="none: fixed β",
                )
                yield Label("temperature")
                yield Input(f"{s.temperature:g}", id="temperature", type="number")
                for source, weight in sorted(s.reward_weights.items()):
                    yield Label(f"weight {source}")
                    yield Input(f"{weight:g}", id=f"w-{source}", type="number", classes="weight")
            yield Static(id="settings-error")

    def _number(self, box_id: str) -> float | None:
        value = self.query_one(f"#{box_id}", Input).value.strip()
        return float(value) if value else None

    @on(Input.Submitted)
    def _submit(self) -> None:
        s = self.current
        try:
            kl_coef, kl_target, temperature = (
                self._number("kl_coef"),
                self._number("kl_target"),
                self._number("temperature"),
            )
            weights = {source: self._number(f"w-{source}") or 0.0 for source in s.reward_weights}
            patch = SettingsPatch(
                kl_coef=kl_coef if kl_coef != s.kl_coef else None,
                kl_target=kl_target if kl_target != s.kl_target else None,
                temperature=temperature if temperature != s.temperature else None,
                reward_weights=weights if weights != s.reward_weights else None,
            )
        except ValueError as exc:
            self.query_one("#settings-error", Static).update(f"not applied: {exc}")
            return
        self.dismiss(patch)

    def action_cancel(self) -> None:
        self.dismiss(None)
