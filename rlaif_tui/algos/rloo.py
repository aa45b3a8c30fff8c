"""RLOO: REINFORCE with a leave-one-out baseline (Kool et al., "Buy 4 REINFORCE Samples, Get a
Baseline for Free!", 2019; Ahmadian et al., "Back to Basics", 2024, eq. 5).

With k samples of one prompt, A_i = r_i - mean_{j != i} r_j (the advantage math itself lives in
the Rust core, `train.advantages.rloo`). The loss is the REINFORCE estimator on whole sequences:
L = -A_i * sum_t logp_t, averaged over the batch, plus an optional per-token KL term. With
several inner epochs it uses GRPO's clipped ratio per token instead (PPO-style RLOO, as TRL's
RLOOTrainer does).
"""

from __future__ import annotations

from torch import Tensor

from rlaif_tui.algos.grpo import clipped_surrogate


def rloo_loss(
    logp: Tensor,
    old_logp: Tensor,
    adv: Tensor,
    mask: Tensor,
    *,
    kl: Tensor | None,
    beta: float,
    eps: float,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Sequence-level REINFORCE-with-baseline loss (mean over the batch)."""
    # logp, old_logp, mask, kl: (B, T)   adv: (B,)
    m = mask.to(logp.dtype)
    # On-policy the ratio is 1 in value and its gradient is that of logp: plain REINFORCE.
    per_token, _ = clipped_surrogate(logp, old_logp, adv, eps, eps)  # (B, T)
    pg_seq = (per_token * m).sum(-1)  # (B,): -A_i * sum_t rho_t
    pg = pg_seq.mean()
    loss = pg
    parts = {"loss/policy": pg.detach()}
    if kl is not None:
        kl_seq = (kl * m).sum(-1)  # (B,)
        parts["kl/mean"] = ((kl * m).sum() / m.sum().clamp(min=1)).detach()
        if beta:
            loss = loss + beta * kl_seq.mean()
    return loss, parts
