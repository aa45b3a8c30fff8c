"""The daemon's sample filter (`GET /api/samples`); the index itself is `api.samples`, shared
with the TUI. Fed from `samples.jsonl` on start and from the trainer's `on_samples` hook."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from rlaif_tui.api.samples import Sample, SampleIndex, checked
from rlaif_tui.reward.outcome import STATUSES as OUTCOME_STATUSES

__all__ = ["STATUSES", "Sample", "SampleFilter", "SampleIndex", "read_samples"]

log = logging.getLogger(__name__)


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


def read_samples(path: Path, keep: int) -> list[Sample]:
    """The last `keep` records of a run's `samples.jsonl`, each checked as a `SampleRecord`.
    A torn last line (a kill) is skipped; a line that is not a sample record is skipped with a
    warning naming the file and line (the file itself is left as it is)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    start = max(0, len(lines) - keep)
    out = []
    for number, line in enumerate(lines[start:], start + 1):
        try:
            out.append(checked(json.loads(line)))
        except ValidationError as exc:
            log.warning("%s:%d: not a sample record, skipped: %s", path, number, exc)
        except ValueError:
            continue  # a torn last line from a kill
    return out
