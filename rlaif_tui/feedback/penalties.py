"""Confirmed tripwires become penalty rules for the rest of the run.

A person confirms that a flagged sample is reward hacking in one of two ways:

- explicitly: a rating whose `confirm_flags` names flags the sample carries (the TUI's
  "confirm hack" action sends this);
- implicitly: a 1-2 score whose comment names one of the sample's flags or says "hack",
  "cheat" or "gaming" (for raters using a plain client).

Each confirmed flag becomes a rule: from the next step on, every sample carrying that flag gets
`penalty_reward` (default -1, below any honest failure) instead of its mixed reward, and the
flag `penalised:<flag>`. Rules are saved in checkpoints, so a resumed run keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rlaif_tui.feedback.tripwires import SUSPICIOUS

HACK_WORDS = re.compile(r"\b(hack\w*|cheat\w*|gaming|games the tests?|reward.hack\w*)\b", re.I)


@dataclass(frozen=True)
class PenaltyRule:
    flag: str
    rating_id: str
    sample_id: str
    rater: str
    step: int


def confirmed_flags(
    sample_flags: Iterable[str],
    *,
    score: int | None,
    comment: str,
    confirm_flags: Sequence[str] = (),
) -> set[str]:
    """The sample's suspicious flags this rating confirms as reward hacking."""
    flags = {f for f in sample_flags if f in SUSPICIOUS}
    if confirm_flags:
        return flags & set(confirm_flags)
    if score is None or score > 2 or not comment.strip():
        return set()
    named = {f for f in flags if f in comment or f.replace("_", " ") in comment.lower()}
    if named:
        return named
    return flags if HACK_WORDS.search(comment) else set()


class PenaltyRules:
    def __init__(self, penalty_reward: float = -1.0) -> None:
        self.penalty_reward = penalty_reward
        self.rules: dict[str, PenaltyRule] = {}

    def confirm(
        self,
        sample: Mapping[str, Any],
        *,
        rating_id: str,
        score: int | None,
        comment: str,
        rater: str,
        step: int,
        confirm_flags: Sequence[str] = (),
    ) -> list[str]:
        """Record the flags a rating confirms on `sample`; returns the ones that are new rules."""
        outcome = sample.get("outcome") or {}
        flags = [*(sample.get("flags") or []), *(outcome.get("flags") or [])]
        new = []
        for flag in sorted(
            confirmed_flags(flags, score=score, comment=comment, confirm_flags=confirm_flags)
        ):
            if flag not in self.rules:
                self.rules[flag] = PenaltyRule(flag, rating_id, str(sample.get("id")), rater, step)
                new.append(flag)
        return new

    def apply(self, reward: float, flags: Iterable[str]) -> tuple[float, list[str]]:
        """The reward after the rules, and the `penalised:<flag>` notes to add."""
        hit = sorted({f for f in flags if f in self.rules})
        if not hit:
            return reward, []
        return min(reward, self.penalty_reward), [f"penalised:{f}" for f in hit]

    def state_dict(self) -> dict[str, Any]:
        return {
            "penalty_reward": self.penalty_reward,
            "rules": [asdict(r) for r in self.rules.values()],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rules = {r["flag"]: PenaltyRule(**r) for r in state.get("rules", [])}
