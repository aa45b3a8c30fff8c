"""Held-out pass@1 of a policy (the warm start or a checkpoint), with a confidence interval.

pass@1 is estimated per problem as the share of `samples` completions (at the run's sampling
temperature) that pass every hidden test, then averaged over problems (Chen et al. 2021's
unbiased estimator for k = 1). The 95% interval is mean +- 1.96 * sd / sqrt(n_problems) over
the per-problem estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import load_problems
from rlaif_tui.models.policy import load_policy
from rlaif_tui.reward.sources import ScoreRequest
from rlaif_tui.reward.sources.execution import ExecutionSource
from rlaif_tui.train.program import prompt_text, to_program
from rlaif_tui.train.rollout import generate


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
    problems = [
        p for p in load_problems(cfg.data.problems) if cfg.data.heldout_split in (None, p.split)
    ][:limit]
    policy = load_policy(
        cfg.model,
        [p for p in load_problems(cfg.data.problems) if cfg.data.split in (None, p.split)],
        need_reference=False,
        init_from=checkpoint,
    )
    source = ExecutionSource(cfg.reward.execution.model_copy(update={"mode": "binary"}), executor)
    tok = policy.tokenizer
    gen = torch.Generator(device=policy.device).manual_seed(seed)
    per_problem: list[float] = []
    policy.model.eval()
    for start in range(0, len(problems), 16):
        chunk = problems[start : start + 16]
        texts = [prompt_text(p, show_public_tests=cfg.data.show_public_tests) for p in chunk]
        ids = [list(tok(t, add_special_tokens=False).input_ids) for t in texts]
        r = cfg.rollout
        rollout = generate(
            policy.model,
            tok,
            ids,
            samples,
            max_new_tokens=r.max_new_tokens,
            temperature=r.temperature,
            top_p=r.top_p,
            stop=r.stop,
            generator=gen,
        )
        requests = [
            ScoreRequest(
                f"eval-{start + i // samples}-{i % samples}",
                chunk[i // samples],
                texts[i // samples],
                c,
                to_program(chunk[i // samples], c, chat=False),
            )
            for i, c in enumerate(rollout.texts)
        ]
        scores = source.submit(requests).result()
        for g in range(len(chunk)):
            vals = [s.value or 0.0 for s in scores[g * samples : (g + 1) * samples]]
            per_problem.append(sum(vals) / samples)
    source.close()
    n = len(per_problem)
    mean = sum(per_problem) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in per_problem) / max(1, n - 1))
    half = 1.96 * sd / math.sqrt(n)
    return PassAt1(mean, max(0.0, mean - half), min(1.0, mean + half), n, samples)
