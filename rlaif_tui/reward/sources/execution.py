"""Execution reward: run the program against the problem's hidden tests in the sandbox.

`binary` gives 1.0 when every test passes (the HumanEval/MBPP pass criterion); `fraction`
gives tests_passed / tests_total. Programs that do not compile or crash can get CodeRL's
penalties instead (Le et al., "CodeRL", 2022, sec. 3.2: -1.0 compile error, -0.6 runtime
error). The sandbox (`rlaif_tui.reward.Executor`) runs jobs in its own processes and hands back
a Future, so execution overlaps the trainer's reference and policy forwards.

Identical programs (same code, tests and limits) are run once: outcomes are kept in the Rust
`RewardCache`, within a batch and across steps (a policy often writes the same completion
several times per group), persisted as `reward_cache.bin` in the run directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rlaif_tui._reward import RewardCache
from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward.sources.base import ScoreRequest, SourceScore, chain

COMPILE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
CRASHES = ("error", "timeout", "memory", "output_limit", "killed")
UNCACHED = ("sandbox_error", "invalid", "killed", "timeout")
"""Statuses that may not repeat on a second run, so they are never cached."""


def outcome_reward(outcome: Mapping[str, Any], cfg: ExecutionRewardConfig) -> float | None:
    """The reward of one sandbox outcome (`Outcome.to_dict()`); None when the sandbox failed."""
    status = outcome.get("status")
    if status in ("sandbox_error", "invalid"):
        return None
    failure = outcome.get("failure") or {}
    if status == "error" and failure.get("type") in COMPILE_ERRORS:
        return cfg.compile_error
    if status in CRASHES and not outcome.get("tests_passed"):
        return cfg.runtime_error
    if cfg.mode == "binary":
        return 1.0 if outcome.get("passed") else 0.0
    total = outcome.get("tests_total") or 0
    passed = outcome.get("tests_passed") or 0
    return passed / total if total else (1.0 if outcome.get("passed") else 0.0)


class ExecutionSource:
    name = "execution"

    def __init__(
        self, cfg: ExecutionRewardConfig, executor: Any = None, cache: RewardCache | None = None
    ) -> None:
        self.cfg = cfg
        self.cache = cache if cache is not None else RewardCache()
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

    def _key(self, job: Mapping[str, Any]) -> str:
        return RewardCache.key(
            [
                json.dumps(job["tests"], sort_keys=True),
                job["code"],
                f"{self.cfg.timeout_s}/{self.cfg.memory_mb}",
            ]
        )

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        jobs = [
            {**r.problem.job(r.program), "id": r.sample_id}  # hidden tests, never in the prompt
            for r in requests
        ]
        keys = [self._key(j) for j in jobs]
        known: dict[str, dict[str, Any]] = {}
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key in known or key in first:
                continue
            hit = self.cache.get(key)
            if hit is not None:
                known[key] = json.loads(hit)
            else:
                first[key] = i
        misses = list(first.values())
        if misses:
            ran = self.executor.submit([jobs[i] for i in misses])
        else:
            ran = Future()
            ran.set_result([])

        def fill(outcomes: list[Any]) -> list[SourceScore]:
            fresh: dict[str, dict[str, Any]] = {}
            for i, outcome in zip(misses, outcomes, strict=True):
                d = outcome.to_dict() if hasattr(outcome, "to_dict") else dict(outcome)
                fresh[keys[i]] = d
                if d.get("status") not in UNCACHED:
                    self.cache.put(keys[i], json.dumps(d))
            scores = []
            for i, key in enumerate(keys):
                d = dict(fresh.get(key) or known[key])
                if first.get(key) != i:
                    d["cached"] = True
                d["id"] = jobs[i]["id"]
                scores.append(
                    SourceScore(
                        value=outcome_reward(d, self.cfg),
                        outcome=d,
                        flags=list(d.get("flags") or []),
                    )
                )
            return scores

        return chain(ran, fill)

    def save_cache(self, path: Path) -> None:
        self.cache.save(path)

    def load_cache(self, path: Path) -> None:
        self.cache.load(path, missing_ok=True)

    def close(self) -> None:
        if self._owns:
            self.executor.__exit__(None, None, None)
