"""One sample: what the model wrote and why it scored what it scored."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from rlaif_tui.tui.priority import flags_of
from rlaif_tui.tui.run_model import Sample

PASS, FAIL, UNKNOWN = "✓", "✗", "·"


def test_marks(outcome: dict[str, Any]) -> list[str]:
    """One mark per test: passed, the failing one, or not known (not run or not reported)."""
    total = int(outcome.get("tests_total") or 0)
    passed = int(outcome.get("tests_passed") or 0)
    failure = outcome.get("failure") or {}
    failing = failure.get("test") if isinstance(failure.get("test"), int) else None
    marks: list[str] = []
    for index in range(total):
        if index == failing:
            marks.append(FAIL)
        elif marks.count(PASS) < passed:
            marks.append(PASS)
        else:
            marks.append(UNKNOWN)
    return marks


def outcome_view(sample: Sample) -> Text:
    """Status, test-by-test marks, the failing test with its line and error, sandbox data."""
    outcome = sample.get("outcome") or {}
    status = str(outcome.get("status", "unknown"))
    text = Text()
    text.append(f" {status} ", style=f"bold reverse {'green' if status == 'passed' else 'red'}")
    text.append(f"  tests {outcome.get('tests_passed', 0)}/{outcome.get('tests_total', 0)}  ")
    for mark in test_marks(outcome):
        color = {"✓": "green", "✗": "red"}.get(mark, "bright_black")
        text.append(mark, style=color)
    failure = outcome.get("failure")
    if failure:
        text.append(f"\ntest {failure.get('test')}: {failure.get('type', 'error')}: ", "bold")
        text.append(str(failure.get("message", "")))
        line = failure.get("line")
        if isinstance(line, int):
            program = str(sample.get("program") or sample.get("completion") or "")
            lines = program.splitlines()
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            text.append(f"\n  line {line}: ", "bold")
            text.append(code, "italic")
    elif outcome.get("message") and status != "passed":
        text.append(f"\n{outcome['message']}")
    extra = [
        f"{outcome.get('duration_s', 0.0):.2f}s" if "duration_s" in outcome else "",
        f"{outcome.get('peak_memory_mb', 0):.0f} MB" if "peak_memory_mb" in outcome else "",
        f"isolation {outcome['isolation']}" if outcome.get("isolation") else "",
        "cached" if outcome.get("cached") else "",
    ]
    if any(extra):
        text.append("\n" + "  ".join(e for e in extra if e), "dim")
    return text


def rewards_view(sample: Sample) -> Table:
    """Reward by source, with a bar for each, then the total and the advantage."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for source, value in sorted((sample.get("rewards") or {}).items()):
        if value is None:
            table.add_row(source, "–", Text("not scored", "dim"))
            continue
        v = float(value)
        bar = "█" * max(0, min(10, round(abs(v) * 10)))
        table.add_row(source, f"{v:+.2f}", Text(bar, "green" if v >= 0 else "red"))
    table.add_row(Text("reward", "bold"), Text(f"{float(sample.get('reward', 0)):+.3f}", "bold"))
    table.add_row("advantage", f"{float(sample.get('advantage', 0)):+.3f}")
    return table


def flags_view(sample: Sample) -> Text:
    flags = flags_of(sample)
    text = Text()
    if not flags:
        text.append("no sandbox flags", "dim")
    for flag in flags:
        text.append(f" ⚑ {flag} ", "bold reverse yellow")
        text.append(" ")
    return text


def code_view(code: str, *, dark: bool, highlight: int | None = None) -> Syntax:
    return Syntax(
        code.rstrip("\n") or " ",
        "python",
        theme="ansi_dark" if dark else "ansi_light",
        line_numbers=True,
        word_wrap=True,
        background_color="default",
        highlight_lines={highlight} if highlight else None,
    )


class SampleCard(VerticalScroll):
    """Problem and score, reward breakdown, test outcome, flags, prompt and completion.

    `compact` (groups side by side, A/B) leaves out the prompt: the group shares it.
    """

    def __init__(
        self,
        *,
        compact: bool = False,
        initial: Sample | None = None,
        label: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.compact = compact
        self.sample: Sample | None = initial
        self._label = label

    def on_mount(self) -> None:
        self.show(self.sample, label=self._label)

    def compose(self) -> ComposeResult:
        yield Static(classes="card-title")
        yield Static(classes="card-body")

    def show(self, sample: Sample | None, *, label: str = "") -> None:
        self.sample = sample
        title, body = self.query_one(".card-title", Static), self.query_one(".card-body", Static)
        if sample is None:
            title.update(Text("no sample selected", "dim"))
            body.update("")
            return
        head = Text(no_wrap=True, overflow="ellipsis")
        if label:
            head.append(f" {label} ", "bold reverse")
            head.append(" ")
        head.append(str(sample.get("problem_id", "?")), "bold")
        head.append(
            f"  step {sample.get('step', '?')}  reward {float(sample.get('reward', 0)):+.3f}"
        )
        head.append(f"  {sample['id']}", "dim")
        title.update(head)
        body.update(self._body(sample))
        self.scroll_home(animate=False)

    def _body(self, sample: Sample) -> RenderableType:
        dark = self.app.current_theme.dark
        failure = (sample.get("outcome") or {}).get("failure") or {}
        parts: list[RenderableType] = [
            outcome_view(sample),
            rewards_view(sample),
            flags_view(sample),
        ]
        if not self.compact:
            parts += [
                Text("prompt", "bold underline"),
                code_view(str(sample.get("prompt", "")), dark=dark),
            ]
        program = str(sample.get("program") or "")
        if program and isinstance(failure.get("line"), int):
            parts += [
                Text("program (failing line marked)", "bold underline"),
                code_view(program, dark=dark, highlight=failure["line"]),
            ]
        else:
            parts += [
                Text("completion", "bold underline"),
                code_view(str(sample.get("completion", "")), dark=dark),
            ]
        return Group(*parts)
