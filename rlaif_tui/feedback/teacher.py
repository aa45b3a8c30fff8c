"""The teacher writes: solutions from a strong model, kept only if they pass in the sandbox.

For problems without a reference, or whose every policy sample failed, the teacher (the judge's
HTTP client, asked to write instead of grade) proposes solutions. Each is cut to the completion
the policy would have written after the prompt (the entry point's body), run against the
problem's hidden tests in the sandbox, and kept only if it passes. Kept solutions serve

- as supervised warm-start data (`prompt + completion`), and
- as `chosen` against failing policy samples in DPO pairs.

`teacher/asked`, `teacher/passed`, `teacher/pass_rate`, `teacher/tokens` and
`teacher/cost_usd` go to the metrics.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rlaif_tui.config.feedback import TeacherConfig
from rlaif_tui.data import AssertsTests, Problem
from rlaif_tui.feedback.judge.client import JudgeClient
from rlaif_tui.feedback.judge.reply import JudgeError
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.models.program import parse_quietly

TEACHER_SYSTEM = (
    "You are an expert Python programmer writing a correct, clear solution for a student to "
    "learn from. Answer with the complete function in one ```python code block."
)
TEACHER_METER_KEYS = ("tokens", "tokens_total", "cost_usd", "cost_usd_total", "requests")
FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


@dataclass
class TeacherStats:
    asked: int = 0
    answered: int = 0
    passed: int = 0
    solutions: dict[str, list[str]] = field(default_factory=dict)
    """problem id -> verified completions (what follows the prompt)."""

    def metrics(self) -> dict[str, float]:
        return {
            "teacher/asked": float(self.asked),
            "teacher/passed": float(self.passed),
            "teacher/pass_rate": self.passed / self.answered if self.answered else 0.0,
        }


def extract_code(text: str) -> str:
    match = FENCE.search(text)
    return (match.group(1) if match else text).strip("\n") + "\n"


def completion_after_prompt(problem: Problem, code: str) -> str | None:
    """The part of `code` that follows `problem.prompt`: the entry point's body.

    None if the code does not define the entry point (or does not parse).
    """
    if code.startswith(problem.prompt):
        return code[len(problem.prompt) :]
    tree = parse_quietly(code)
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == problem.entry_point:
            body = node.body
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and len(body) > 1
            ):
                first = body[1]  # the prompt brings its own docstring
            lines = code.splitlines(keepends=True)
            end = node.end_lineno or len(lines)
            return "".join(lines[first.lineno - 1 : end])
    return None


def teacher_prompt(problem: Problem) -> str:
    examples = ""
    if isinstance(problem.public_tests, AssertsTests):
        examples = "\nExamples:\n" + "\n".join(problem.public_tests.asserts) + "\n"
    return f"Complete this function.\n```python\n{problem.prompt}```\n{examples}"


class Teacher:
    def __init__(
        self,
        cfg: TeacherConfig,
        client: JudgeClient,
        run_jobs: Callable[[list[dict[str, Any]]], Sequence[Any]],
    ) -> None:
        self.cfg = cfg
        self.client = client
        self.run_jobs = run_jobs
        """The sandbox: `Executor.run` (jobs -> outcomes with `.passed`)."""
        self.stats = TeacherStats()

    def wanted(self, problem: Problem, group_rewards: Sequence[float] | None = None) -> bool:
        if "no_reference" in self.cfg.when and problem.reference is None:
            return True
        return bool(
            "all_fail" in self.cfg.when
            and group_rewards is not None
            and len(group_rewards) > 0
            and max(group_rewards) <= 0.0
        )

    async def _ask(self, problem: Problem) -> list[str]:
        async def one() -> str | None:
            try:
                reply = await self.client.complete(TEACHER_SYSTEM, teacher_prompt(problem))
            except JudgeError as exc:
                self.client.fault("teacher_failures", str(exc))
                return None
            return completion_after_prompt(problem, extract_code(reply.text))

        got = await asyncio.gather(*(one() for _ in range(self.cfg.solutions_per_problem)))
        return list(dict.fromkeys(c for c in got if c))  # distinct, in order

    async def solve(self, problems: Sequence[Problem]) -> dict[str, list[str]]:
        """Verified completions per problem id (only those passing the hidden tests)."""
        problems = list(problems)[: self.cfg.max_problems_per_step]
        self.stats.asked += len(problems) * self.cfg.solutions_per_problem
        proposals = await asyncio.gather(*(self._ask(p) for p in problems))
        jobs, owners = [], []
        for problem, completions in zip(problems, proposals, strict=True):
            for c in completions:
                jobs.append({**problem.job(problem.prompt + c), "id": f"teacher-{problem.id}"})
                owners.append((problem.id, c))
        self.stats.answered += len(jobs)
        outcomes = await asyncio.to_thread(self.run_jobs, jobs) if jobs else []
        kept: dict[str, list[str]] = {}
        for (pid, c), outcome in zip(owners, outcomes, strict=True):
            if getattr(outcome, "passed", False):
                kept.setdefault(pid, []).append(c)
                self.stats.passed += 1
        for pid, cs in kept.items():
            have = self.stats.solutions.setdefault(pid, [])
            have.extend(c for c in cs if c not in have)
        return kept

    def metrics(self) -> dict[str, float]:
        """Pass rate so far, plus this step's teacher tokens and cost (its own meter)."""
        out = self.stats.metrics()
        drained = self.client.meter.drain("teacher")
        out.update({k: v for k, v in drained.items() if k.split("/")[1] in TEACHER_METER_KEYS})
        return out

    def pairs(self, problem: Problem, prompt: str, failing: Sequence[str]) -> list[Pair]:
        """(teacher solution, failing policy completion) pairs for DPO."""
        solutions = self.stats.solutions.get(problem.id, [])
        out = []
        for i, bad in enumerate(failing[: self.cfg.pairs_per_problem]):
            if solutions:
                good = solutions[i % len(solutions)]
                if good != bad:
                    out.append(Pair(prompt, good, bad))
        return out

    def warm_start_texts(self, problems: Sequence[Problem]) -> list[tuple[str, str]]:
        """(prompt, completion) examples for a supervised warm start."""
        by_id = {p.id: p for p in problems}
        return [
            (by_id[pid].prompt, c)
            for pid, cs in self.stats.solutions.items()
            if pid in by_id
            for c in cs
        ]
