"""Read a run directory's metrics.jsonl, samples.jsonl and settings.jsonl for reports
(finished or running).

A running trainer may be mid-write: a torn last line is skipped, not an error. Any other bad
line is an error naming the file and line.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
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
    """Samples passing and sampled, per problem and step (from samples.jsonl)."""

    counts: dict[tuple[str, int], tuple[int, int]]
    """(problem id, step) -> (passed, sampled); only the cells that were sampled."""

    @property
    def problems(self) -> list[str]:
        return sorted({p for p, _ in self.counts})

    @property
    def steps(self) -> list[int]:
        return sorted({s for _, s in self.counts})


def read_pass_grid(run: Path) -> PassGrid | None:
    """None when the run has no samples with sandbox outcomes."""
    path = run / "samples.jsonl"
    if not path.exists():
        return None
    tally: dict[tuple[str, int], tuple[int, int]] = {}
    for row in _rows(path):
        outcome = row.get("outcome")
        if not isinstance(outcome, dict) or "passed" not in outcome:
            continue
        cell = (str(row.get("problem_id")), row["step"])
        passed, sampled = tally.get(cell, (0, 0))
        tally[cell] = (passed + bool(outcome["passed"]), sampled + 1)
    return PassGrid(tally) if tally else None


@dataclass
class PassWindows:
    """Pass rate per problem over windows of steps: the problems whose rate moved most between
    their first and last sampled window, biggest gain first."""

    starts: list[int]
    ends: list[int]
    """Window j covers steps starts[j]..ends[j] (columns; widths differ by at most one)."""
    problems: list[str]
    rate: list[list[float | None]]
    """rate[i][j]: passed / sampled over every sample of problem i in window j (None: none)."""
    change: list[float]
    """Last sampled window's rate minus the first's, per problem."""


def pass_windows(grid: PassGrid, *, windows: int = 12, rows: int = 40) -> PassWindows:
    """Split the logged steps into at most `windows` near-equal windows and keep the `rows`
    problems with the largest |change|. A problem sampled once per few steps gets a real rate
    per window (several samples each) instead of one 0-or-1 cell per step among empty ones."""
    steps = grid.steps
    first, span = steps[0], steps[-1] - steps[0] + 1
    count = min(windows, span)
    starts = [first + j * span // count for j in range(count)]
    ends = [*(s - 1 for s in starts[1:]), steps[-1]]
    tally: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in range(count)])
    for (problem, step), (passed, sampled) in grid.counts.items():
        cell = tally[problem][bisect.bisect_right(starts, step) - 1]
        cell[0] += passed
        cell[1] += sampled
    scored = []
    for problem, cells in tally.items():
        rates = [p / n if n else None for p, n in cells]
        seen = [r for r in rates if r is not None]
        scored.append((seen[-1] - seen[0], problem, rates))
    # largest |change| first, ties by id; then shown gains on top, losses at the bottom
    kept = sorted(scored, key=lambda t: (-abs(t[0]), t[1]))[:rows]
    kept.sort(key=lambda t: (-t[0], t[1]))
    return PassWindows(
        starts=starts,
        ends=ends,
        problems=[p for _, p, _ in kept],
        rate=[r for _, _, r in kept],
        change=[c for c, _, _ in kept],
    )


@dataclass(frozen=True)
class SettingsChange:
    step: int
    """The trainer's step count when it took the change: it applies from step + 1 on."""
    label: str
    """What changed, e.g. `temperature 1→1.3, weight human 0→0.5`."""


def read_settings_changes(run: Path) -> list[SettingsChange]:
    """The live settings changes journalled in settings.jsonl (none: []), each labelled with
    the values before (from earlier changes, else config.yaml) and after."""
    path = run / "settings.jsonl"
    if not path.exists():
        return []
    current = _initial_settings(run)
    changes = []
    for number, row in enumerate(_rows(path), start=1):
        values = row.get("settings")
        if not isinstance(values, dict):
            raise RunDataError(f"{path}:{number}: settings: expected an object")
        parts = []
        for key, value in _flatten(values).items():
            before = current.get(key)
            if before == value:
                continue
            parts.append(f"{key} {'' if before is None else _num(before)}→{_num(value)}")
            current[key] = value
        if parts:
            changes.append(SettingsChange(row["step"], ", ".join(parts)))
    return changes


def _flatten(values: Mapping[str, Any]) -> dict[str, float]:
    """`{"temperature": 1.3, "reward_weights": {"human": 1}}` -> `temperature`, `weight human`."""
    out: dict[str, float] = {}
    for key, value in sorted(values.items()):
        if key == "reward_weights" and isinstance(value, dict):
            for name, weight in sorted(value.items()):
                if isinstance(weight, int | float):
                    out[f"weight {name}"] = float(weight)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def _initial_settings(run: Path) -> dict[str, float]:
    """The live settings a run starts with, from its config.yaml (missing: {})."""
    path = run / "config.yaml"
    if not path.exists():
        return {}
    import yaml

    cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(cfg, dict):
        return {}

    def get(section: str, key: str) -> Any:
        part = cfg.get(section)
        return part.get(key) if isinstance(part, dict) else None

    values: dict[str, Any] = {
        "kl_coef": get("kl", "coef"),
        "temperature": get("rollout", "temperature"),
        "reward_weights": get("reward", "weights"),
    }
    if get("kl", "adaptive"):
        values["kl_target"] = get("kl", "target")
    return _flatten({k: v for k, v in values.items() if v is not None})


def _num(value: float) -> str:
    return f"{value:g}"
