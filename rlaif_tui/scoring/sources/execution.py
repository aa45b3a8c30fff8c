"""Execution reward: run the program against the problem's hidden tests in the sandbox.

`binary` gives 1.0 when every test passes (the HumanEval/MBPP pass criterion); `fraction`
gives tests_passed / tests_total. Programs that do not compile or crash can get CodeRL's
penalties instead (Le et al., "CodeRL", 2022, sec. 3.2: -1.0 compile error, -0.6 runtime
error). The sandbox (`rlaif_tui.reward.Executor`) runs jobs in its own processes and hands back
a Future, so execution overlaps the trainer's reference and policy forwards.

Identical programs (same code, tests and limits) are run once: the executor keeps settled
outcomes in the Rust `RewardCache`, within a batch and across steps (a policy often writes the
same completion several times per group); the trainer persists it as `reward_cache.bin`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rlaif_tui._reward import RewardCache
from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward.factory import make_executor
from rlaif_tui.reward.outcome import SANDBOX_FAILURES
from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore, chain

DROPPED = "sandbox_dropped"
"""Flag of a sample whose sandbox failed, under `on_sandbox_error: drop`."""
COMPILE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
CRASHES = ("error", "timeout", "memory", "output_limit", "killed")


def outcome_reward(outcome: Mapping[str, Any], cfg: ExecutionRewardConfig) -> float | None:
    """The reward of one sandbox outcome (`Outcome.to_dict()`); None when the sandbox failed."""
    status = outcome.get("status")
    if status in SANDBOX_FAILURES:
        return 0.0 if cfg.on_sandbox_error == "fail" else None
    failure = outcome.get("failure") or {}
    if status == "error" and failure.get("type") in COMPILE_ERRORS:
        return cfg.compile_error
    raised = failure.get("type") not in (None, "AssertionError")  # the code itself crashed
    if (status in CRASHES or (status == "failed" and raised)) and not outcome.get("tests_passed"):
        return cfg.runtime_error
    if cfg.mode == "binary":
        return 1.0 if outcome.get("passed") else 0.0
    total = outcome.get("tests_total") or 0
    passed = outcome.get("tests_passed") or 0
    return passed / total if total else (1.0 if outcome.get("passed") else 0.0)


class ExecutionSource(SourceBase):
    name = "execution"

    def __init__(
        self, cfg: ExecutionRewardConfig, executor: Any = None, cache: RewardCache | None = None
    ) -> None:
        self.cfg = cfg
        self.cache = cache if cache is not None else RewardCache()
        self._owns = executor is None
        if executor is None:
            executor = make_executor(cfg, self.cache)
        self.executor = executor

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        jobs = [
            {**r.problem.job(r.program), "id": r.sample_id}  # hidden tests, never in the prompt
            for r in requests
        ]
        return chain(self.executor.submit(jobs), self._scores)

    def _scores(self, outcomes: list[Any]) -> list[SourceScore]:
        out = []
        for o in outcomes:
            d = o.to_dict() if hasattr(o, "to_dict") else dict(o)
            flags = list(d.get("flags") or [])
            if d.get("status") in SANDBOX_FAILURES and self.cfg.on_sandbox_error == "drop":
                flags.append(DROPPED)
            out.append(SourceScore(value=outcome_reward(d, self.cfg), outcome=d, flags=flags))
        return out

    def save_cache(self, path: Path) -> None:
        self.cache.save(path)

    def load_cache(self, path: Path) -> None:
        self.cache.load(path, missing_ok=True)

    def close(self) -> None:
        if self._owns:
            self.executor.__exit__(None, None, None)
