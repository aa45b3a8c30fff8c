"""Which sample to rate next: the ones where a human rating is worth most come first.

A rating is worth most where the automatic signals cannot be trusted or cannot decide:

- **flagged** — the sample or its sandbox outcome carries a flag (`exit_before_tests`,
  `test_uses_candidate_helper`, ...): possible reward hacking, a human should look;
- **disagreement** — the tests (`rewards.execution`) and the AI judge (`rewards.judge`)
  disagree: one of them is wrong about this completion;
- **group spread** — the group's rewards vary a lot: the advantage of every sample in the
  group hangs on these rewards being right.

The score is `FLAG_WEIGHT * flagged + |execution - judge| + group reward std`; ties go to the
newer step, then the sample id, so the order is total and repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rlaif_tui.tui.run_model import Sample

FLAG_WEIGHT = 2.0
"""A flag outranks any disagreement or spread (both are at most about 1 for rewards in [0, 1])."""


@dataclass(frozen=True)
class Candidate:
    sample: Sample
    score: float
    reasons: tuple[str, ...]

    @property
    def id(self) -> str:
        return str(self.sample["id"])


def flags_of(sample: Sample) -> list[str]:
    """The sample's own flags and its sandbox outcome's, without duplicates."""
    outcome = sample.get("outcome") or {}
    seen: dict[str, None] = {}
    for flag in [*(sample.get("flags") or []), *(outcome.get("flags") or [])]:
        seen[str(flag)] = None
    return list(seen)


def _reward(sample: Sample, source: str) -> float | None:
    value = (sample.get("rewards") or {}).get(source)
    return float(value) if isinstance(value, int | float) else None


def group_std(rewards: Sequence[float]) -> float:
    if len(rewards) < 2:
        return 0.0
    mean = sum(rewards) / len(rewards)
    return math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))


def assess(sample: Sample, group: Sequence[Sample]) -> Candidate:
    """Score one sample given the samples of its group (which may include itself)."""
    reasons: list[str] = []
    score = 0.0
    flags = flags_of(sample)
    if flags:
        score += FLAG_WEIGHT
        reasons.append("flagged: " + ", ".join(flags))
    tests, judge = _reward(sample, "execution"), _reward(sample, "judge")
    if tests is not None and judge is not None:
        gap = abs(tests - judge)
        score += gap
        if gap >= 0.25:
            reasons.append(f"tests {tests:.2f} vs judge {judge:.2f}")
    spread = group_std([float(s.get("reward", 0.0)) for s in group])
    score += spread
    if spread >= 0.2:
        reasons.append(f"group spread {spread:.2f}")
    return Candidate(sample, score, tuple(reasons))


def rating_queue(
    samples: Iterable[Sample],
    groups: Mapping[str, Sequence[Sample]],
    rated: set[str],
) -> list[Candidate]:
    """Unrated samples, the most valuable rating first.

    `groups` maps a `group_id` to the samples of that group; `rated` holds sample ids that
    already have a rating (or were skipped) and are left out.
    """
    ranked = [
        assess(s, groups.get(str(s.get("group_id")), [s]))
        for s in samples
        if str(s["id"]) not in rated
    ]
    ranked.sort(key=lambda c: (-c.score, -int(c.sample.get("step", 0)), c.id))
    return ranked


def ab_partner(sample: Sample, group: Sequence[Sample]) -> Sample | None:
    """The other completion of the same prompt to compare `sample` with in an A/B rating.

    Never one with the same program (a byte-identical pair teaches nothing and wastes the
    rater's time). Among the rest, one whose outcome differs (passed vs failed, or a different
    number of tests passed) comes first: a person can tell those apart and the preference
    says which failure is worse; then the closest reward, where the automatic signal cannot
    separate them.
    """
    program = _program(sample)
    others = [s for s in group if s["id"] != sample["id"] and _program(s) != program]
    if not others:
        return None
    reward = float(sample.get("reward", 0.0))
    mine = _outcome_key(sample)
    return min(
        others,
        key=lambda s: (
            _outcome_key(s) == mine,
            abs(float(s.get("reward", 0.0)) - reward),
            str(s["id"]),
        ),
    )


def _program(sample: Sample) -> str:
    return str(sample.get("program") or sample.get("completion") or "").strip()


def _outcome_key(sample: Sample) -> tuple[object, ...]:
    outcome = sample.get("outcome") or {}
    return (outcome.get("status"), outcome.get("tests_passed"))
