"""One evaluation: problems + completions (sampled or replayed) -> sandbox -> report.

`evaluate_completions` is the shared core of `rlaif eval` (model or `--samples`), its A/B mode
and the evaluation inside training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rlaif_tui.data import Problem
from rlaif_tui.evaluation.scoring import ProblemResult, Summary, score_programs, summarise
from rlaif_tui.reward.runner import Runner

Progress = Callable[[str, int, int], None]


@dataclass
class EvalReport:
    """Everything `rlaif eval` prints and writes (`to_dict` is the JSON report)."""

    source: str
    """The model label or samples file."""
    problems: list[Problem]
    completions: list[list[str]]
    programs: list[list[str]]
    results: list[ProblemResult]
    outcomes: list[list[dict[str, Any]]]
    summary: Summary
    ks: list[int]
    settings: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    """Problem ids that had no samples (replay mode)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Optional sections: `selection` (n@k), `text_metrics`, `comparison`."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "settings": self.settings,
            "summary": self.summary.to_dict(),
            "problems": [r.to_dict() for r in self.results],
            "missing": self.missing,
            **self.extras,
        }


def evaluate_completions(
    source: str,
    problems: Sequence[Problem],
    completions: Sequence[Sequence[str]],
    programs: Sequence[Sequence[str]],
    run: Runner,
    ks: Sequence[int],
    *,
    settings: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    results, outcomes = score_programs(
        problems,
        programs,
        run,
        ks,
        progress=(lambda d, t: progress("sandbox", d, t)) if progress else None,
    )
    return EvalReport(
        source=source,
        problems=list(problems),
        completions=[list(c) for c in completions],
        programs=[list(p) for p in programs],
        results=results,
        outcomes=outcomes,
        summary=summarise(results, ks),
        ks=list(ks),
        settings=dict(settings or {}),
    )


def replay_programs(
    problems: Sequence[Problem], completions: Sequence[Sequence[str]]
) -> list[list[str]]:
    """Programs of given completions: each completion continues its problem's prompt."""
    return [[p.program(c) for c in cs] for p, cs in zip(problems, completions, strict=True)]
