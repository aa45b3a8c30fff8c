"""The recent sample records a daemon serves and a TUI shows: by id, by group, newest last.

One index for both sides, so they agree on what a repeated id means: with
`reward.human.hold_s > 0` the trainer publishes a batch's provisional records (advantage 0,
before the update) and later the final records under the same ids; a record added again
**replaces** the one held (keeping its place in its group), and counts as the newest.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, ValuesView
from typing import Any

from pydantic import BaseModel, ConfigDict


class SampleRecord(BaseModel):
    """One completion as the run reports it (docs/architecture.md "Sample record"): the one
    place the record's shape is defined. The scoring layer builds it (`scoring.records`);
    `samples.jsonl`, websocket `sample` frames and `GET /api/samples` carry `wire()`."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    id: str
    """`sNNNNNN-gGG-II`: step, group in the step's batch, completion in the group."""
    step: int
    group_id: str
    """`sNNNNNN-gGG`: the completions of one prompt."""
    problem_id: str
    prompt: str
    completion: str
    program: str
    """The program the sandbox ran (the completion's code, with the prompt's prefix)."""
    reward: float
    """The mixed reward (live weights, penalties applied)."""
    rewards: dict[str, float | None]
    """What each reward source said; None where it had no verdict."""
    advantage: float
    """0.0 in the provisional record published before the update."""
    outcome: dict[str, Any] | None
    """The sandbox's outcome (`reward.Outcome.to_dict()` keys), None without execution."""
    flags: list[str]
    """Tripwire and sandbox flags, `truncated` when generation hit the length limit."""

    def wire(self) -> Sample:
        """The JSON form (the keys above, nothing else)."""
        return self.model_dump(mode="json")


Sample = dict[str, Any]
"""A sample record on the wire: `SampleRecord.wire()` (in samples.jsonl, websocket frames, the
API). The daemon and the TUI hold and index this form; `SampleRecord.model_validate` checks one
that came from outside."""


def checked(record: Sample) -> Sample:
    """`record` as it is, once `SampleRecord` accepts it (a record read from a file or the wire;
    one that does not fit raises `pydantic.ValidationError` naming the field)."""
    SampleRecord.model_validate(record)
    return record


def group_of(record: Sample) -> str:
    return str(record.get("group_id", record["id"]))


class SampleIndex:
    """At most `keep` records; the oldest drop out first."""

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self._by_id: OrderedDict[str, Sample] = OrderedDict()
        self._groups: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._by_id

    def __getitem__(self, sample_id: str) -> Sample:
        return self._by_id[sample_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def add(self, records: Iterable[Sample]) -> None:
        """Add records; one whose id is held replaces it (the final record after a hold)."""
        for rec in records:
            sid = str(rec["id"])
            if sid not in self._by_id:
                self._groups.setdefault(group_of(rec), []).append(sid)
            self._by_id[sid] = rec
            self._by_id.move_to_end(sid)
        while len(self._by_id) > self.keep:
            old_id, old = self._by_id.popitem(last=False)
            gid = group_of(old)
            members = self._groups.get(gid, [])
            if old_id in members:
                members.remove(old_id)
            if not members:
                self._groups.pop(gid, None)

    def get(self, sample_id: str) -> Sample | None:
        return self._by_id.get(sample_id)

    def values(self) -> ValuesView[Sample]:
        """Oldest first."""
        return self._by_id.values()

    @property
    def groups(self) -> dict[str, list[str]]:
        """Sample ids by `group_id`, in arrival order (read only)."""
        return self._groups

    def group(self, sample: Sample) -> list[Sample]:
        """The held records of `sample`'s group, in arrival order."""
        ids = self._groups.get(group_of(sample), [])
        return [self._by_id[i] for i in ids if i in self._by_id]

    def page(
        self, keep: Callable[[Sample], bool], offset: int, limit: int
    ) -> tuple[list[Sample], int]:
        """Matching samples newest first, `limit` of them from `offset`, and how many match."""
        matching = [s for s in reversed(self._by_id.values()) if keep(s)]
        return matching[offset : offset + limit], len(matching)

    def recent(self, n: int) -> list[Sample]:
        """The newest `n` samples, oldest of them first."""
        values = list(self._by_id.values())
        return values[-n:] if n else []
