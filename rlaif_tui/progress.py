"""One progress display for every long job of the CLI: count, rate and time left.

On a terminal it is a `rich.progress` bar on stderr; anywhere else (a log file, a pipe, CI) it
prints a plain line at the start, at most every `every_s` seconds, and at the end, so a log
shows how far a job got without carriage returns or bar redraws:

    warm start: 120/600 (20%) 4.1 step/s, 1m57s left · loss 1.234

```python
with progress("warm start", total=600, unit="step") as bar:
    for step in range(600):
        ...
        bar.advance(note=f"loss {loss:.3f}")
```

Only rich and the standard library are imported: every layer may use it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PLAIN_EVERY_S = float(os.environ.get("RLAIF_PROGRESS_EVERY", "10"))
"""Seconds between plain progress lines (`$RLAIF_PROGRESS_EVERY`; 0 prints every update)."""


def format_duration(seconds: float) -> str:
    """`42s`, `3m07s`, `1h05m`."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Tracker:
    """What a job calls as it works: `advance` by a count, `note` a short status."""

    def __init__(self, description: str, total: int | None, unit: str) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.note_text = ""
        self.started = time.monotonic()

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        self.completed += n
        if note is not None:
            self.note_text = note
        self._show()

    def update(self, completed: int, total: int | None = None) -> None:
        """Set the count (and the total, when it became known): a `(done, total)` callback."""
        self.completed = completed
        if total is not None:
            self.total = total
        self._show()

    def note(self, text: str) -> None:
        self.note_text = text
        self._show()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.completed / elapsed if elapsed > 0 else 0.0

    def eta_s(self) -> float | None:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(0.0, (self.total - self.completed) / rate)

    def line(self) -> str:
        """The plain-text form: `desc: 120/600 (20%) 4.1 step/s, 1m57s left · note`."""
        count = f"{self.completed}/{self.total}" if self.total else str(self.completed)
        parts = [f"{self.description}: {count}"]
        if self.total:
            parts.append(f"({100 * self.completed / self.total:.0f}%)")
        rate = self.rate()
        unit = self.unit or "it"
        speed = f"{rate:.2f} {unit}/s" if rate < 10 else f"{rate:.0f} {unit}/s"
        if self.completed:
            eta = self.eta_s()
            done = self.total is not None and self.completed >= self.total
            if done:
                speed += f", done in {format_duration(time.monotonic() - self.started)}"
            elif eta is not None:
                speed += f", {format_duration(eta)} left"
            parts.append(speed)
        text = " ".join(parts)
        return f"{text} · {self.note_text}" if self.note_text else text

    def _show(self) -> None:  # overridden by the two displays
        pass

    def _finish(self) -> None:
        pass


class _PlainTracker(Tracker):
    def __init__(
        self, description: str, total: int | None, unit: str, stream: TextIO, every_s: float
    ) -> None:
        super().__init__(description, total, unit)
        self.stream = stream
        self.every_s = every_s
        self.last_print = -float("inf")
        self.printed_at = -1
        self._print()

    def _print(self) -> None:
        self.stream.write(self.line() + "\n")
        self.stream.flush()
        self.last_print = time.monotonic()
        self.printed_at = self.completed

    def _show(self) -> None:
        if time.monotonic() - self.last_print >= self.every_s:
            self._print()

    def _finish(self) -> None:
        if self.printed_at != self.completed:
            self._print()


class _RichTracker(Tracker):
    def __init__(self, description: str, total: int | None, unit: str, bar: Progress) -> None:
        super().__init__(description, total, unit)
        self.bar = bar
        self.task: TaskID = bar.add_task(escape(description), total=total, note="")

    def _show(self) -> None:
        self.bar.update(
            self.task, completed=self.completed, total=self.total, note=escape(self.note_text)
        )


class _RateColumn(ProgressColumn):
    """`4.12 step/s` (rich's own speed columns are for bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text(f"- {self.unit}/s", style="progress.data.speed")
        shown = f"{speed:.2f}" if speed < 10 else f"{speed:.0f}"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed")


@contextmanager
def progress(
    description: str,
    total: int | None,
    *,
    unit: str = "",
    stream: TextIO | None = None,
    every_s: float | None = None,
    force_plain: bool = False,
) -> Iterator[Tracker]:
    """Show a job's progress on `stream` (stderr) while the `with` block runs."""
    out = stream if stream is not None else sys.stderr
    if force_plain or not out.isatty():
        plain = _PlainTracker(
            description, total, unit, out, PLAIN_EVERY_S if every_s is None else every_s
        )
        try:
            yield plain
        finally:
            plain._finish()
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(unit or "it"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(file=out),
        transient=False,
    )
    with bar:
        yield _RichTracker(description, total, unit, bar)
