"""Run every sample against its problem's hidden tests and reduce to pass@k per problem.

A sample is correct when its program passes every hidden test (`Outcome.passed`), the
HumanEval/MBPP criterion. A sandbox failure (`sandbox_error`, `invalid`) is counted as
incorrect and reported separately, so a broken sandbox cannot pass for a bad model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlaif_tui.data import Problem
from rlaif_tui.evaluation.passk import Interval, bootstrap_ci, mean_pass_at_k, pass_at_k
from rlaif_tui.reward.outcome import SANDBOX_FAILURES, summary
from rlaif_tui.reward.runner import Runner, run_in_batches


@dataclass
class ProblemResult:
    id: str
    n: int
    c: int
    passed: list[bool]
    """Per sample, in sample order."""
    first_failure: str | None = None
    """`reward.outcome.summary` of the first failing sample (None when every sample passed)."""
    sandbox_errors: int = 0
    pass_at: dict[int, float] = field(default_factory=dict)
    """pass@k of this problem for each k <= n."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "n": self.n,
            "c": self.c,
            **{f"pass@{k}": v for k, v in self.pass_at.items()},
            "first_failure": self.first_failure,
            "sandbox_errors": self.sandbox_errors,
        }


def score_programs(
    problems: Sequence[Problem],
    programs: Sequence[Sequence[str]],
    run: Runner,
    ks: Sequence[int],
    *,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[ProblemResult], list[list[dict[str, Any]]]]:
    """Run every program on its problem's hidden tests; per-problem results and outcomes."""
    if len(problems) != len(programs):
        raise ValueError(f"{len(problems)} problems but {len(programs)} program lists")
    jobs = [
        {**p.job(code), "id": f"{p.id}#{j}"}
        for p, codes in zip(problems, programs, strict=True)
        for j, code in enumerate(codes)
    ]
    flat = run_in_batches(run, jobs, batch_size, progress)
    results: list[ProblemResult] = []
    outcomes: list[list[dict[str, Any]]] = []
    at = 0
    for problem, codes in zip(problems, programs, strict=True):
        mine = flat[at : at + len(codes)]
        at += len(codes)
        outcomes.append(mine)
        passed = [bool(o.get("passed")) for o in mine]
        first = next((summary(o) for o in mine if not o.get("passed")), None)
        n, c = len(passed), sum(passed)
        result = ProblemResult(
            problem.id,
            n,
            c,
            passed,
            first,
            sum(o.get("status") in SANDBOX_FAILURES for o in mine),
        )
        if n:
            result.pass_at = {k: float(pass_at_k(n, c, k)[0]) for k in ks if k <= n}
        results.append(result)
    return results, outcomes


@dataclass
class Summary:
    """pass@k over problems, each with a bootstrap CI (problems resampled)."""

    problems: int
    pass_at: dict[int, Interval]
    skipped_k: list[int]
    """k asked for but not estimable: some problem has fewer than k samples."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": self.problems,
            **{
                f"pass@{k}": {
                    "estimate": iv.estimate,
                    "low": iv.low,
                    "high": iv.high,
                    "confidence": iv.confidence,
                }
                for k, iv in self.pass_at.items()
            },
            "skipped_k": self.skipped_k,
        }


def summarise(results: Sequence[ProblemResult], ks: Sequence[int], *, seed: int = 0) -> Summary:
    scored = [r for r in results if r.n > 0]
    if not scored:
        return Summary(0, {}, list(ks))
    n = np.array([r.n for r in scored])
    c = np.array([r.c for r in scored])
    means = mean_pass_at_k(n, c, ks)
    pass_at = {
        k: bootstrap_ci(pass_at_k(n, c, k), resamples=2000, seed=seed) for k in sorted(means)
    }
    return Summary(len(scored), pass_at, [k for k in ks if k not in means])
