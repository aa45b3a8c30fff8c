"""Held-out pass@k of a policy: inside training (`eval.every`) and for a checkpoint afterwards.

Both go through the evaluation core (`rlaif_tui.evaluation`): the trainer's prompt encoding and
sampler, the sandbox, and the unbiased pass@k estimator (Chen et al. 2021) averaged over
problems, with a bootstrap interval over problems.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import Problem, load_problems
from rlaif_tui.evaluation.sampling import Sampling, sample_policy
from rlaif_tui.evaluation.scoring import score_programs, summarise
from rlaif_tui.reward.factory import make_executor
from rlaif_tui.reward.runner import Runner, runner_of


def heldout_problems(cfg: TrainConfig, limit: int | None = None) -> list[Problem]:
    split = cfg.data.heldout_split
    problems = [p for p in load_problems(cfg.data.problems) if split in (None, p.split)]
    return problems[:limit] if limit else problems


def eval_sampling(cfg: TrainConfig, samples: int, seed: int) -> Sampling:
    r, e = cfg.rollout, cfg.eval
    return Sampling(
        n=samples,
        temperature=e.temperature or r.temperature,
        top_p=r.top_p,
        max_new_tokens=e.max_new_tokens or r.max_new_tokens,
        stop=tuple(r.stop),
        show_public_tests=cfg.data.show_public_tests,
        append_eos=cfg.data.append_eos,
        seed=seed,
    )


def heldout_metrics(
    policy: Any, problems: Sequence[Problem], cfg: TrainConfig, run: Runner
) -> dict[str, float]:
    """`eval/pass@k` for each k in `cfg.eval.ks`, `eval/problems` and `eval/time_s`."""
    t0 = time.perf_counter()
    e = cfg.eval
    samples = sample_policy(policy, problems, eval_sampling(cfg, e.samples, e.seed))
    results, _ = score_programs(problems, samples.programs, run, e.ks)
    summary = summarise(results, e.ks)
    metrics = {f"eval/pass@{k}": iv.estimate for k, iv in summary.pass_at.items()}
    metrics["eval/problems"] = float(summary.problems)
    metrics["eval/time_s"] = time.perf_counter() - t0
    return metrics


class InTrainingEval:
    """The trainer's held-out pass (`eval.every`, `Trainer.evaluate`): its problems, and a
    sandbox of its own only when the run has none (no execution source), closed with it."""

    def __init__(self, cfg: TrainConfig, problems: Sequence[Problem] = ()) -> None:
        self.cfg = cfg
        self.problems = list(problems)
        self._executor: Any = None

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> InTrainingEval:
        """The `eval.limit` first problems of `data.heldout_split` (none without `eval.every`)."""
        if not cfg.eval.every:
            return cls(cfg)
        problems = heldout_problems(cfg, cfg.eval.limit)
        if not problems:
            raise ValueError(
                f"{cfg.data.problems}: no problems in split {cfg.data.heldout_split!r} to "
                "evaluate on; set data.heldout_split or eval.every=0"
            )
        return cls(cfg, problems)

    def metrics(self, policy: Any, sandbox: Any) -> dict[str, float]:
        """`heldout_metrics` of `policy`, run in `sandbox` (None: an executor made once)."""
        if sandbox is None:
            if self._executor is None:
                self._executor = make_executor(self.cfg.reward.execution)
            sandbox = self._executor
        return heldout_metrics(policy, self.problems, self.cfg, runner_of(sandbox))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None


@dataclass
class PassAt1:
    mean: float
    low: float
    high: float
    problems: int
    samples: int

    def __str__(self) -> str:
        return (
            f"{self.mean:.3f} (95% CI {self.low:.3f}-{self.high:.3f}; "
            f"{self.problems} problems x {self.samples} samples)"
        )


def heldout_pass_at_1(
    cfg: TrainConfig,
    checkpoint: Path | None,
    *,
    samples: int = 4,
    limit: int | None = None,
    executor: Any = None,
    seed: int = 1234,
) -> PassAt1:
    """pass@1 on `cfg.data.heldout_split` of the checkpoint (None: the initial policy)."""
    from rlaif_tui.evaluation.model_ref import ModelRef, load_ref

    problems = heldout_problems(cfg, limit)
    policy = load_ref(ModelRef("run", cfg.model, checkpoint, cfg))
    owned = executor is None
    if executor is None:
        executor = make_executor(cfg.reward.execution)
    try:
        drawn = sample_policy(policy, problems, eval_sampling(cfg, samples, seed))
        results, _ = score_programs(problems, drawn.programs, runner_of(executor), [1])
    finally:
        if owned:
            executor.close()
    pass1 = summarise(results, [1]).pass_at[1]
    return PassAt1(pass1.estimate, pass1.low, pass1.high, len(results), samples)
