"""Score: send completions to every reward source at once and mix what comes back.

`submit` returns immediately; the trainer computes reference and policy forwards while the
sandbox runs the programs, then `PendingScores.wait` blocks only for what is left and reports
how long it blocked (`time/reward_wait_s`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from rlaif_tui.reward.outcome import SANDBOX_FAILURES
from rlaif_tui.scoring.mix import mix, source_means
from rlaif_tui.scoring.sources import RewardSource, ScoreRequest, SourceScore


@dataclass
class Scored:
    rewards: list[float]
    per_source: dict[str, list[float | None]]
    outcomes: list[dict[str, Any] | None]
    flags: list[list[str]]
    wait_s: float
    metrics: dict[str, float]


class PendingScores:
    def __init__(
        self, futures: Mapping[str, Future[list[SourceScore]]], weights: Mapping[str, float]
    ) -> None:
        self.futures = dict(futures)
        self.weights = dict(weights)

    def wait(self) -> Scored:
        start = time.perf_counter()
        results = {name: fut.result() for name, fut in self.futures.items()}
        wait_s = time.perf_counter() - start
        per_source = {name: [s.value for s in scores] for name, scores in results.items()}
        rewards, flags = mix(per_source, self.weights)
        n = len(rewards)
        outcomes: list[dict[str, Any] | None] = [None] * n
        for scores in results.values():
            for i, s in enumerate(scores):
                flags[i] += s.flags
                if s.outcome is not None:
                    outcomes[i] = s.outcome
        return Scored(
            rewards, per_source, outcomes, flags, wait_s, batch_metrics(per_source, outcomes)
        )


class PendingChunks:
    """Scores of several chunks submitted one after another; `wait` joins them in order."""

    def __init__(self, chunks: Sequence[PendingScores]) -> None:
        self.chunks = list(chunks)

    def wait(self) -> Scored:
        parts = [c.wait() for c in self.chunks]
        if len(parts) == 1:
            return parts[0]
        per_source: dict[str, list[float | None]] = {}
        for part in parts:
            for name, vals in part.per_source.items():
                per_source.setdefault(name, []).extend(vals)
        outcomes = [o for part in parts for o in part.outcomes]
        return Scored(
            rewards=[r for part in parts for r in part.rewards],
            per_source=per_source,
            outcomes=outcomes,
            flags=[f for part in parts for f in part.flags],
            wait_s=sum(part.wait_s for part in parts),
            metrics=batch_metrics(per_source, outcomes),
        )


def batch_metrics(
    per_source: Mapping[str, Sequence[float | None]], outcomes: Sequence[dict[str, Any] | None]
) -> dict[str, float]:
    out = source_means(per_source)
    ran = [o for o in outcomes if o is not None]
    if ran:
        out["pass/rate"] = sum(bool(o.get("passed")) for o in ran) / len(ran)
        out["pass/partial"] = sum(
            (o.get("tests_passed") or 0) / (o.get("tests_total") or 1) for o in ran
        ) / len(ran)
        out["sandbox/timeouts"] = float(sum(o.get("status") == "timeout" for o in ran))
        out["sandbox/errors"] = float(sum(o.get("status") in SANDBOX_FAILURES for o in ran))
        out["sandbox/cache_hit_rate"] = sum(bool(o.get("cached")) for o in ran) / len(ran)
    return out


def submit(
    sources: Sequence[RewardSource], requests: Sequence[ScoreRequest], weights: Mapping[str, float]
) -> PendingScores:
    """Start every source with a positive weight on `requests`."""
    futures = {s.name: s.submit(requests) for s in sources if weights.get(s.name, 0.0) > 0}
    return PendingScores(futures, weights)
