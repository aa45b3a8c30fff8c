"""A run against its matched control (`RUN/control/`, `run.control`): paired per-step numbers.

Both runs sample with the same seeds from the same prompts at every step, so the per-step
difference of a metric (`pass/rate` by default) removes what the two share (prompt mix,
sampling luck) and leaves what the updates changed. Its mean over a window of steps comes
with a 95% interval from the spread of the differences (normal approximation, steps treated
as independent; neighbouring steps are correlated through the weights, so read it as a
summary of this run, not of every seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rlaif_tui.evaluation.run_data import read_metrics

CONTROL_DIR = "control"
Z95 = 1.96


@dataclass(frozen=True)
class MeanCI:
    mean: float
    half_width: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:+.3f} +- {self.half_width:.3f} (n={self.n})"


@dataclass(frozen=True)
class Paired:
    steps: list[int]
    run: list[float]
    control: list[float]

    @property
    def diffs(self) -> list[float]:
        return [a - b for a, b in zip(self.run, self.control, strict=True)]

    def window(self, start: int = 0) -> MeanCI:
        """Mean paired difference over the steps from index `start` on, with its 95% CI."""
        return mean_ci(self.diffs[start:])

    def second_half(self) -> MeanCI:
        return self.window(len(self.steps) // 2)


def mean_ci(xs: Sequence[float]) -> MeanCI:
    """Mean and 95% half-width (normal approximation; 0 width for fewer than 2 values)."""
    n = len(xs)
    if n == 0:
        return MeanCI(math.nan, math.nan, 0)
    m = sum(xs) / n
    if n < 2:
        return MeanCI(m, 0.0, n)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return MeanCI(m, Z95 * sd / math.sqrt(n), n)


def pair(run: Path, control: Path | None = None, key: str = "pass/rate") -> Paired | None:
    """`key` of `run` and its control at the steps both logged (None: no control or no key)."""
    control = control or run / CONTROL_DIR
    if not (control / "metrics.jsonl").exists():
        return None
    a = dict(read_metrics(run).get(key, []))
    b = dict(read_metrics(control).get(key, []))
    steps = sorted(set(a) & set(b))
    if not steps:
        return None
    return Paired(steps, [a[s] for s in steps], [b[s] for s in steps])


def running_ci(diffs: Sequence[float]) -> list[MeanCI]:
    """The cumulative mean difference after each step, with its 95% CI (for the plot)."""
    return [mean_ci(diffs[: i + 1]) for i in range(len(diffs))]
