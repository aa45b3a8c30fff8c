"""Execution reward: run the program against the problem's hidden tests in the sandbox.

`binary` gives 1.0 when every test passes (the HumanEval/MBPP pass criterion); `fraction`
gives tests_passed / tests_total. Programs that do not compile or crash can get CodeRL's
penalties instead (Le et al., "CodeRL", 2022, sec. 3.2: -1.0 compile error, -0.6 runtime
error). The sandbox (`rlaif_tui.reward.Executor`) runs jobs in its own processes and hands back
a Future, so execution overlaps the trainer's reference and policy forwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward.sources.base import ScoreRequest, SourceScore, chain

COMPILE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
CRASHES = ("error", "timeout", "memory", "output_limit", "killed")


def outcome_reward(outcome: Any, cfg: ExecutionRewardConfig) -> float | None:
    """The reward of one sandbox Outcome (None when the sandbox itself failed)."""
    if outcome.status in ("sandbox_error", "invalid"):
        return None
    failure = outcome.failure or {}
    if outcome.status == "error" and failure.get("type") in COMPILE_ERRORS:
        return cfg.compile_error
    if outcome.status in CRASHES and not outcome.tests_passed:
        return cfg.runtime_error
    if cfg.mode == "binary":
        return 1.0 if outcome.passed else 0.0
    total = outcome.tests_total or 0
    return outcome.tests_passed / total if total else (1.0 if outcome.passed else 0.0)


class ExecutionSource:
    name = "execution"

    def __init__(self, cfg: ExecutionRewardConfig, executor: Any = None) -> None:
        self.cfg = cfg
        self._owns = executor is None
        if executor is None:
            try:
                from rlaif_tui.reward import Executor  # type: ignore[attr-defined]
            except ImportError as exc:
                raise RuntimeError(
                    "the execution reward needs the sandbox executor "
                    "(rlaif_tui.reward.Executor), which this build lacks; try the loop without "
                    "it with --set 'reward.weights={syntax: 1.0}'"
                ) from exc

            executor = Executor(
                workers=cfg.workers, timeout_s=cfg.timeout_s, memory_mb=cfg.memory_mb
            )
            executor.__enter__()
        self.executor = executor

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        jobs = [
            {**r.problem.job(r.program), "id": r.sample_id}  # hidden tests, never in the prompt
            for r in requests
        ]
        return chain(self.executor.submit(jobs), self._scores)

    def _scores(self, outcomes: list[Any]) -> list[SourceScore]:
        return [
            SourceScore(
                value=outcome_reward(o, self.cfg),
                outcome=o.to_dict(),
                flags=list(getattr(o, "flags", []) or []),
            )
            for o in outcomes
        ]

    def close(self) -> None:
        if self._owns:
            self.executor.__exit__(None, None, None)
