"""The teacher inside a run: ask in the background, harvest next step.

After each step the groups that failed completely (and problems without a reference) are sent
to the teacher on the judge's event loop; the step does not wait. At a later step's end the
verified solutions are collected: each becomes `chosen` against up to `pairs_per_problem` failing
completions of its problem in the pair pool (online DPO, reward model), and is appended to
`teacher_solutions.jsonl` in the run directory (prompt, completion: supervised warm-start data).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rlaif_tui.data import Problem
from rlaif_tui.feedback.judge.background import BackgroundJudge
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.teacher import Teacher


class TeacherLink:
    def __init__(
        self,
        cfg: Any,
        run_jobs: Callable[[list[dict[str, Any]]], Sequence[Any]],
        out: Path,
        log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cfg = cfg.teacher
        self.out = Path(out)
        self.bg = BackgroundJudge(cfg.reward.judge, log=log)
        self.teacher = Teacher(cfg.teacher, self.bg.client, run_jobs)
        self.problems: dict[str, Problem] = {}
        self.pending: Future[dict[str, list[str]]] | None = None
        self.failing: dict[str, tuple[str, list[str]]] = {}
        """problem id -> (prompt, failing completions) from the step that asked."""
        self.asked: set[str] = set()

    def register(self, problems: Sequence[Problem]) -> None:
        self.problems.update({p.id: p for p in problems})

    def after_step(self, samples: Sequence[Mapping[str, Any]]) -> list[Pair]:
        pairs = self._harvest()
        if self.pending is None:
            self._ask(samples)
        return pairs

    def _ask(self, samples: Sequence[Mapping[str, Any]]) -> None:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for s in samples:
            groups.setdefault(str(s["group_id"]), []).append(s)
        wanted: list[Problem] = []
        for members in groups.values():
            problem = self.problems.get(str(members[0]["problem_id"]))
            if problem is None or problem.id in self.asked:
                continue
            rewards = [float((m.get("rewards") or {}).get("execution") or 0.0) for m in members]
            if self.teacher.wanted(problem, rewards):
                wanted.append(problem)
                failing = [
                    str(m["completion"]) for m, r in zip(members, rewards, strict=True) if r <= 0.0
                ]
                self.failing[problem.id] = (str(members[0]["prompt"]), failing)
            if len(wanted) >= self.cfg.max_problems_per_step:
                break
        if wanted:
            self.asked.update(p.id for p in wanted)
            self.pending = self.bg.run(self.teacher.solve(wanted))

    def _harvest(self) -> list[Pair]:
        if self.pending is None or not self.pending.done():
            return []
        fut, self.pending = self.pending, None
        try:
            solved = fut.result()
        except Exception as exc:  # a teacher fault never stops training
            self.bg.client.fault("teacher_failures", f"teacher: {exc}")
            return []
        pairs: list[Pair] = []
        with (self.out / "teacher_solutions.jsonl").open("a", encoding="utf-8") as fh:
            for pid, completions in solved.items():
                problem = self.problems[pid]
                for c in completions:
                    fh.write(
                        json.dumps({"problem_id": pid, "prompt": problem.prompt, "completion": c})
                        + "\n"
                    )
                prompt, failing = self.failing.get(pid, (problem.prompt, []))
                pairs += self.teacher.pairs(problem, prompt, failing)
        return pairs

    def wait(self, timeout: float | None = None) -> None:
        """Block until an outstanding request finishes (tests, and before closing)."""
        if self.pending is not None:
            self.pending.exception(timeout=timeout)

    def metrics(self) -> dict[str, float]:
        return self.teacher.metrics()

    def close(self) -> None:
        self.bg.close()
