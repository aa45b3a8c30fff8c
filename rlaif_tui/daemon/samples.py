"""The samples the daemon can show and have rated: recent sample records by id and by group.

Fed from `samples.jsonl` on start and from the trainer's `on_samples` hook; a record published
again with the same id (the final one after a rating hold) replaces the provisional one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rlaif_tui.reward.outcome import STATUSES as OUTCOME_STATUSES

Sample = dict[str, Any]

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


class SampleIndex:
    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self._by_id: OrderedDict[str, Sample] = OrderedDict()
        self._groups: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, records: Iterable[Sample]) -> None:
        for rec in records:
            sid = str(rec["id"])
            if sid not in self._by_id:
                self._groups.setdefault(str(rec.get("group_id", sid)), []).append(sid)
            self._by_id[sid] = rec
            self._by_id.move_to_end(sid)
        while len(self._by_id) > self.keep:
            old_id, old = self._by_id.popitem(last=False)
            gid = str(old.get("group_id", old_id))
            members = self._groups.get(gid, [])
            if old_id in members:
                members.remove(old_id)
            if not members:
                self._groups.pop(gid, None)

    def get(self, sample_id: str) -> Sample | None:
        return self._by_id.get(sample_id)

    def group(self, sample: Sample) -> list[Sample]:
        ids = self._groups.get(str(sample.get("group_id", sample["id"])), [])
        return [self._by_id[i] for i in ids if i in self._by_id]

    def page(self, keep: SampleFilter, offset: int, limit: int) -> tuple[list[Sample], int]:
        """Matching samples newest first, `limit` of them from `offset`, and how many match."""
        matching = [s for s in reversed(self._by_id.values()) if keep(s)]
        return matching[offset : offset + limit], len(matching)

    def recent(self, n: int) -> list[Sample]:
        """The newest `n` samples, oldest of them first."""
        values = list(self._by_id.values())
        return values[-n:] if n else []
