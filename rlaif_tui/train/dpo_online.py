"""Online / iterative DPO (`algorithm: dpo` without `dpo.pairs`): each step's groups, ranked by
their mixed reward (execution, judge, RM, human), give preference pairs; pairs people made
(late ratings), self-repair and the teacher join them from the feedback pool. One DPO update
per step on those pairs, against the reference of the RL loop (Guo et al. 2024, "Direct
Language Model Alignment from Online AI Feedback", sec. 3).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rlaif_tui.config.feedback import DPOConfig
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train.batch import Batch
from rlaif_tui.train.dpo import dpo_step, reference_logps
from rlaif_tui.train.update import Update

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer


def group_pairs(
    prompts: Sequence[str],
    completions: Sequence[str],
    rewards: Sequence[float],
    group_size: int,
    cfg: DPOConfig,
) -> list[Pair]:
    """Best vs worst of each group (then second best vs second worst, ...), when their rewards
    differ by at least `online_margin` and the texts differ."""
    out: list[Pair] = []
    for g, prompt in enumerate(prompts):
        idx = list(range(g * group_size, (g + 1) * group_size))
        ranked = sorted(idx, key=lambda i: rewards[i], reverse=True)
        for k in range(min(cfg.online_pairs, group_size // 2)):
            hi, lo = ranked[k], ranked[-1 - k]
            if rewards[hi] - rewards[lo] < cfg.online_margin:
                break
            if completions[hi] != completions[lo]:
                out.append(Pair(prompt, completions[hi], completions[lo]))
    return out


def take(pool: deque[Pair], n: int) -> list[Pair]:
    """Up to `n` of the newest pairs from the pool (each is used once)."""
    out: list[Pair] = []
    while pool and len(out) < n:
        out.append(pool.pop())
    return out


def dpo_update(
    policy: Any,
    optimizer: Any,
    cfg: DPOConfig,
    pairs: Sequence[Pair],
    max_grad_norm: float,
) -> dict[str, float]:
    """One DPO step on `pairs` (reference log-probs computed now, under the reference)."""
    if not pairs:
        return {"dpo/pairs": 0.0}
    ref = reference_logps(policy.reference, policy.tokenizer, pairs, cfg)
    metrics = dpo_step(
        policy.model,
        policy.tokenizer,
        pairs,
        ref,
        cfg,
        optimizer,
        policy.trainable_parameters(),
        max_grad_norm,
    )
    metrics["dpo/pairs"] = float(len(pairs))
    return metrics


def centred(rewards: Sequence[float], group_size: int) -> list[float]:
    """Reward minus its group's mean: what the sample record shows as `advantage`."""
    r = np.asarray(rewards, dtype=np.float64).reshape(-1, group_size)
    out: list[float] = (r - r.mean(axis=1, keepdims=True)).reshape(-1).tolist()
    return out


def online_update(t: Trainer, batch: Batch) -> Update:
    """The trainer's update under `algorithm: dpo`: pairs from this batch's groups plus as many
    from the feedback pool, one DPO step, and the rewards centred per group as advantages."""
    k = t.cfg.rollout.group_size
    rewards = batch.scored.rewards
    pairs = group_pairs(batch.prompts, batch.rollout.texts, rewards, k, t.cfg.dpo)
    from_pool = take(t.scoring.pairs, max(1, len(pairs)))
    metrics = dpo_update(
        t.policy, t.optimizer, t.cfg.dpo, pairs + from_pool, t.cfg.optim.max_grad_norm
    )
    t.scheduler.step()
    r = np.asarray(rewards, dtype=np.float64)
    metrics.update(batch.scored.metrics)
    metrics.update(
        {
            "reward/mean": float(r.mean()),
            "reward/std": float(r.std()),
            "groups/zero_variance": float(adv_math.zero_variance_groups(r, k).mean()),
            "dpo/pool_pairs": float(len(from_pool)),
        }
    )
    return Update(metrics, centred(rewards, k))
