"""Which problems each step trains on: a seeded epoch order, or a curriculum by pass rate.

Without a curriculum, epochs are seeded permutations (epoch e of seed s is always the same),
so the order depends on nothing but (seed, step) and a resumed run sees the same prompts.
With `curriculum.enabled`, each problem keeps a running (EMA) pass rate; problems whose groups
all pass or all fail give GRPO zero advantage, so they get weight `floor` and the rest weight
proportional to p(1-p) (the variance of a pass), as in the "learnability" sampling of
Foster & Foerster 2025 / DAPO's motivation for dynamic sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlaif_tui.config.train import CurriculumConfig, TrainConfig
from rlaif_tui.data import Problem, load_problems


def training_problems(cfg: TrainConfig) -> list[Problem]:
    """The problems of `data.split` (all without one), the first `data.limit` of them."""
    problems = [p for p in load_problems(cfg.data.problems) if cfg.data.split in (None, p.split)]
    if cfg.data.limit:
        problems = problems[: cfg.data.limit]
    if not problems:
        raise ValueError(f"{cfg.data.problems}: no problems in split {cfg.data.split!r}")
    return problems


class ProblemSampler:
    def __init__(
        self, n: int, per_step: int, seed: int, cfg: CurriculumConfig, sequential: bool = False
    ) -> None:
        if n < per_step:
            raise ValueError(
                f"only {n} problems for rollout.prompts_per_step={per_step}; "
                "lower prompts_per_step or add problems"
            )
        self.n, self.per_step, self.seed, self.cfg = n, per_step, seed, cfg
        self.sequential = sequential
        self.pass_rate: dict[int, float] = {}

    def _epoch_order(self, epoch: int) -> np.ndarray:
        if self.sequential:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def indices(self, step: int) -> list[int]:
        """Problem indices for 1-based `step` (depends only on seed, step and pass rates)."""
        if not self.cfg.enabled:
            start = (step - 1) * self.per_step
            out = []
            for pos in range(start, start + self.per_step):
                epoch, offset = divmod(pos, self.n)
                out.append(int(self._epoch_order(epoch)[offset]))
            return out
        weights = np.array([self._weight(i) for i in range(self.n)])
        rng = np.random.default_rng([self.seed, 1_000_003, step])
        picked = rng.choice(self.n, size=self.per_step, replace=False, p=weights / weights.sum())
        return [int(i) for i in picked]

    def _weight(self, i: int) -> float:
        p = self.pass_rate.get(i)
        if p is None:
            return 1.0
        return max(self.cfg.floor, 4 * p * (1 - p))

    def observe(self, indices: Sequence[int], rates: Sequence[float]) -> None:
        for i, r in zip(indices, rates, strict=True):
            old = self.pass_rate.get(i)
            self.pass_rate[i] = r if old is None else self.cfg.ema * old + (1 - self.cfg.ema) * r

    def state_dict(self) -> dict[str, Any]:
        return {"pass_rate": dict(self.pass_rate)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pass_rate = {int(k): float(v) for k, v in state["pass_rate"].items()}
