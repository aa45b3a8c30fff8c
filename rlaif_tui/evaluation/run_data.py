"""Read a run directory's metrics.jsonl and samples.jsonl for reports (finished or running).

A running trainer may be mid-write: a torn last line is skipped, not an error. Any other bad
line is an error naming the file and line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RunDataError(ValueError):
    """A run directory that cannot be reported on; the message names the file (and line)."""


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                return  # a torn last line of a running trainer
            raise RunDataError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            raise RunDataError(f"{path}:{number}: step: expected an object with an integer step")
        yield row


def read_metrics(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Each metric key's (step, value) series, in step order."""
    path = run / "metrics.jsonl"
    if not path.exists():
        raise RunDataError(f"{path}: no metrics yet (is {run} a run directory?)")
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in _rows(path):
        for key, value in row.items():
            if key not in ("step", "time") and isinstance(value, int | float):
                series[key].append((row["step"], float(value)))
    return {k: sorted(v) for k, v in series.items()}


@dataclass
class PassGrid:
    """Share of samples passing, per problem and step (from samples.jsonl)."""

    problems: list[str]
    steps: list[int]
    rate: list[list[float | None]]
    """rate[i][j]: problem i at step j (None: not sampled that step)."""


def read_pass_grid(run: Path) -> PassGrid | None:
    """None when the run has no samples with sandbox outcomes."""
    path = run / "samples.jsonl"
    if not path.exists():
        return None
    tally: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in _rows(path):
        outcome = row.get("outcome")
        if not isinstance(outcome, dict) or "passed" not in outcome:
            continue
        cell = tally[(str(row.get("problem_id")), row["step"])]
        cell[0] += bool(outcome["passed"])
        cell[1] += 1
    if not tally:
        return None
    problems = sorted({p for p, _ in tally})
    steps = sorted({s for _, s in tally})
    rate: list[list[float | None]] = [
        [tally[(p, s)][0] / tally[(p, s)][1] if (p, s) in tally else None for s in steps]
        for p in problems
    ]
    return PassGrid(problems, steps, rate)
