"""`rlaif data check`: run every reference solution, and trivial wrong answers, in the sandbox.

A problem is
- `broken` when its reference fails the hidden tests (or the public tests): the tests, or the
  reference, are wrong, and any reward computed from them is noise;
- `weak` when a trivial wrong answer (`rlaif_tui.data.mutants`) passes the hidden tests: a policy
  can earn the reward without solving anything;
- `unchecked` when it has no reference;
- `ok` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rlaif_tui.data.mutants import mutant_programs
from rlaif_tui.data.schema import Problem
from rlaif_tui.reward.outcome import summary
from rlaif_tui.reward.runner import Runner, run_in_batches

Verdict = Literal["ok", "broken", "weak", "unchecked"]


@dataclass
class ProblemCheck:
    """What `rlaif data check` found for one problem."""

    id: str
    verdict: Verdict
    reference: dict[str, Any] | None = None
    """The reference's outcome on the hidden tests."""
    public: dict[str, Any] | None = None
    """The reference's outcome on the public tests, when there are any."""
    passing_mutants: list[str] = field(default_factory=list)
    """Trivial wrong answers that pass the hidden tests."""

    def describe(self) -> str:
        """One line saying why the verdict was reached."""
        if self.verdict == "weak":
            return "hidden tests pass for: " + ", ".join(self.passing_mutants)
        if self.verdict == "unchecked":
            return "no reference solution"
        parts = []
        for label, outcome in (("hidden", self.reference), ("public", self.public)):
            if outcome is not None and not outcome.get("passed"):
                parts.append(f"{label} tests: {summary(outcome)}")
                if outcome.get("status") == "timeout":
                    parts[-1] += " (a longer --timeout may help)"
        return "; ".join(parts) or "ok"

    @property
    def flags(self) -> list[str]:
        """Sandbox flags on the reference's runs, e.g. `test_uses_candidate_helper`."""
        found: set[str] = set()
        for outcome in (self.reference, self.public):
            found.update((outcome or {}).get("flags") or [])
        return sorted(found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "why": self.describe(),
            "reference": self.reference,
            "public": self.public,
            "passing_mutants": self.passing_mutants,
            "flags": self.flags,
        }


@dataclass
class _Planned:
    problem: Problem
    reference: int | None = None
    public: int | None = None
    mutants: dict[str, int] = field(default_factory=dict)


def _plan(problems: Sequence[Problem]) -> tuple[list[_Planned], list[dict[str, Any]]]:
    plans: list[_Planned] = []
    jobs: list[dict[str, Any]] = []

    def add(job: dict[str, Any], suffix: str) -> int:
        jobs.append({**job, "id": f"{job['id']}#{suffix}"})
        return len(jobs) - 1

    for problem in problems:
        plan = _Planned(problem)
        plans.append(plan)
        if problem.reference is None:
            continue
        program = problem.program(problem.reference)
        plan.reference = add(problem.job(program), "reference")
        if problem.public_tests is not None:
            plan.public = add(problem.job(program, problem.public_tests), "public")
        for name, mutant in mutant_programs(problem).items():
            plan.mutants[name] = add(problem.job(mutant), f"mutant:{name}")
    return plans, jobs


def check_problems(
    problems: Sequence[Problem],
    run: Runner,
    *,
    batch_size: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> list[ProblemCheck]:
    """Check every problem; `run` executes jobs (see `executor_runner`) in batches."""
    plans, jobs = _plan(problems)
    outcomes = run_in_batches(run, jobs, batch_size, progress)
    results: list[ProblemCheck] = []
    for plan in plans:
        if plan.reference is None:
            results.append(ProblemCheck(plan.problem.id, "unchecked"))
            continue
        reference = outcomes[plan.reference]
        public = outcomes[plan.public] if plan.public is not None else None
        passing = [name for name, i in plan.mutants.items() if outcomes[i].get("passed")]
        verdict: Verdict = "ok"
        if not reference.get("passed") or (public is not None and not public.get("passed")):
            verdict = "broken"
        elif passing:
            verdict = "weak"
        results.append(ProblemCheck(plan.problem.id, verdict, reference, public, passing))
    return results
