"""The samples browser's filter line and sort orders.

Filter syntax (space-separated, all must hold): `problem:<text>` (substring of the problem id;
a bare word means the same), `status:<outcome status>` (e.g. `status:failed`),
`reward>0.5`, `reward<0.2`, `reward:0.2..0.8`, and `flagged`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rlaif_tui.tui.priority import flags_of
from rlaif_tui.tui.run_model import Sample

SORTS: dict[str, Callable[[Sample], tuple[float | str, ...]]] = {
    "newest": lambda s: (-int(s.get("step", 0)),),
    "reward ↓": lambda s: (-float(s.get("reward", 0.0)),),
    "reward ↑": lambda s: (float(s.get("reward", 0.0)),),
    "problem": lambda s: (str(s.get("problem_id", "")), -int(s.get("step", 0))),
}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class SampleFilter:
    problem: str | None = None
    status: str | None = None
    min_reward: float | None = None
    max_reward: float | None = None
    flagged: bool = False

    @classmethod
    def parse(cls, text: str) -> SampleFilter:
        fields: dict[str, object] = {}
        for token in text.split():
            try:
                if token.startswith("problem:"):
                    fields["problem"] = token.removeprefix("problem:")
                elif token.startswith("status:"):
                    fields["status"] = token.removeprefix("status:")
                elif token.startswith("reward>"):
                    fields["min_reward"] = float(token.removeprefix("reward>").lstrip("="))
                elif token.startswith("reward<"):
                    fields["max_reward"] = float(token.removeprefix("reward<").lstrip("="))
                elif token.startswith("reward:"):
                    lo, _, hi = token.removeprefix("reward:").partition("..")
                    fields["min_reward"] = float(lo) if lo else None
                    fields["max_reward"] = float(hi) if hi else None
                elif token == "flagged":
                    fields["flagged"] = True
                elif ":" in token or "<" in token or ">" in token:
                    raise FilterError(
                        f"unknown filter {token!r}: use problem:, status:, reward>, reward<, "
                        "reward:LO..HI or flagged"
                    )
                else:
                    fields["problem"] = token
            except ValueError as exc:
                if isinstance(exc, FilterError):
                    raise
                raise FilterError(f"{token!r}: the reward bound is not a number") from exc
        return cls(**fields)  # type: ignore[arg-type]

    def matches(self, sample: Sample) -> bool:
        reward = float(sample.get("reward", 0.0))
        status = str((sample.get("outcome") or {}).get("status", ""))
        return (
            (self.problem is None or self.problem in str(sample.get("problem_id", "")))
            and (self.status is None or status == self.status)
            and (self.min_reward is None or reward >= self.min_reward)
            and (self.max_reward is None or reward <= self.max_reward)
            and (not self.flagged or bool(flags_of(sample)))
        )


def select(samples: Iterable[Sample], filt: SampleFilter, sort: str) -> list[Sample]:
    return sorted((s for s in samples if filt.matches(s)), key=SORTS[sort])


def short_problem_id(problem_id: str, width: int = 16) -> str:
    """A problem id that fits a narrow list column: its tail, where ids differ
    (`quickstart/train/1946` → `…/train/1946`)."""
    if len(problem_id) <= width:
        return problem_id
    tail = problem_id[-(width - 1) :]
    cut = tail.find("/")
    return "…" + (tail[cut:] if cut > 0 else tail)
