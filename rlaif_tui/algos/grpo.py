"""GRPO policy loss (Shao et al., "DeepSeekMath", 2024, eq. 3) with its aggregation variants.

Per token: L_t = -min(rho_t A, clip(rho_t, 1 - eps_low, 1 + eps_high) A) + beta * KL_t with
rho_t = exp(logp_t - old_logp_t). Aggregation over a batch of B completions, T positions:
- `grpo`: mean over each sequence's tokens, then mean over sequences (the paper's eq. 3);
- `dapo`: sum over all tokens / number of tokens (Yu et al., "DAPO", 2025, eq. 8), so long
  completions are not down-weighted; DAPO's clip-higher is eps_high > eps_low;
- `dr_grpo`: sum over all tokens / (B * max_tokens) (Liu et al., "Understanding R1-Zero-Like
  Training", 2025, "Dr. GRPO"), a constant normaliser that removes the length bias.
"""

from __future__ import annotations

from torch import Tensor

from rlaif_tui.algos import GRPO_LOSS_TYPES


def clipped_surrogate(
    logp: Tensor, old_logp: Tensor, adv: Tensor, eps_low: float, eps_high: float
) -> tuple[Tensor, Tensor]:
    """Per-token clipped policy-gradient loss and whether each token was clipped."""
    # logp, old_logp: (B, T)   adv: (B,)
    ratio = (logp - old_logp).exp()  # (B, T)
    unclipped = ratio * adv[:, None]  # (B, T)
    clipped = ratio.clamp(1 - eps_low, 1 + eps_high) * adv[:, None]  # (B, T)
    per_token = -unclipped.minimum(clipped)  # (B, T)
    return per_token, (clipped < unclipped)


def aggregate(per_token: Tensor, mask: Tensor, loss_type: str, max_tokens: int) -> Tensor:
    """Reduce a (B, T) per-token loss over valid tokens to a scalar."""
    # per_token, mask: (B, T); mask is 1 on completion tokens
    mask = mask.to(per_token.dtype)
    if loss_type == "dapo":
        return (per_token * mask).sum() / mask.sum().clamp(min=1)
    if loss_type == "grpo":
        per_seq = (per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1)  # (B,)
        return per_seq.mean()
    if loss_type == "dr_grpo":
        return (per_token * mask).sum() / (per_token.shape[0] * max_tokens)
    raise ValueError(f"unknown loss_type {loss_type!r}; valid: {', '.join(GRPO_LOSS_TYPES)}")


def grpo_loss(
    logp: Tensor,
    old_logp: Tensor,
    adv: Tensor,
    mask: Tensor,
    *,
    kl: Tensor | None,
    beta: float,
    eps_low: float,
    eps_high: float,
    loss_type: str,
    max_tokens: int,
) -> tuple[Tensor, dict[str, Tensor]]:
    """The GRPO objective to minimise; also returns its parts (detached) for logging."""
    # logp, old_logp, mask, kl: (B, T)   adv: (B,)
    pg, was_clipped = clipped_surrogate(logp, old_logp, adv, eps_low, eps_high)  # (B, T)
    per_token = pg if kl is None or beta == 0 else pg + beta * kl  # (B, T)
    loss = aggregate(per_token, mask, loss_type, max_tokens)
    m = mask.to(logp.dtype)
    parts = {
        "loss/policy": aggregate(pg, mask, loss_type, max_tokens).detach(),
        "clip/ratio": ((was_clipped.to(logp.dtype) * m).sum() / m.sum().clamp(min=1)).detach(),
    }
    if kl is not None:
        parts["kl/mean"] = ((kl * m).sum() / m.sum().clamp(min=1)).detach()
    return loss, parts
