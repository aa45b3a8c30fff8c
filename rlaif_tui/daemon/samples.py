"""The daemon's sample filter (`GET /api/samples`); the index itself is `api.samples`, shared
with the TUI. Fed from `samples.jsonl` on start and from the trainer's `on_samples` hook."""

from __future__ import annotations

from dataclasses import dataclass

from rlaif_tui.api.samples import Sample, SampleIndex
from rlaif_tui.reward.outcome import STATUSES as OUTCOME_STATUSES

__all__ = ["STATUSES", "Sample", "SampleFilter", "SampleIndex"]


STATUSES = frozenset(OUTCOME_STATUSES)
"""Outcome statuses (docs/architecture.md), the values of the `status` filter."""


@dataclass(frozen=True)
class SampleFilter:
    problem: str | None = None
    min_reward: float | None = None
    max_reward: float | None = None
    status: str | None = None

    def __call__(self, s: Sample) -> bool:
        reward = float(s.get("reward", 0.0))
        outcome = s.get("outcome") or {}
        return (
            (self.problem is None or s.get("problem_id") == self.problem)
            and (self.min_reward is None or reward >= self.min_reward)
            and (self.max_reward is None or reward <= self.max_reward)
            and (self.status is None or outcome.get("status") == self.status)
        )
