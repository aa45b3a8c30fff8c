"""PPO with a value head for language models (Schulman et al., "Proximal Policy Optimization",
2017, eq. 7 and 9; the per-token RLHF form of Ziegler et al. 2019 and Stiennon et al. 2020; the
code-generation setting of CodeRL, Le et al. 2022).

The reward is placed on the last completion token (minus a per-token KL penalty when
`kl.in_reward`); advantages come from GAE (Schulman et al. 2016, eq. 16) computed in the Rust
core (`train.advantages.gae`). Value loss is clipped around the old values as in the PPO2
reference implementation; an entropy bonus keeps exploration.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlaif_tui.algos.grpo import clipped_surrogate


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp(min=1)


def value_loss(
    values: Tensor, old_values: Tensor, returns: Tensor, mask: Tensor, clip: float
) -> Tensor:
    """Clipped value loss: 0.5 * max((V - R)^2, (clip(V, V_old +- clip) - R)^2)."""
    # values, old_values, returns, mask: (B, T)
    clipped = old_values + (values - old_values).clamp(-clip, clip)  # (B, T)
    losses = torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)  # (B, T)
    return 0.5 * masked_mean(losses, mask)


def entropy_from_logits(logits: Tensor) -> Tensor:
    """Per-position entropy of the categorical distribution."""
    # logits: (B, T, V) -> (B, T)
    logz = torch.logsumexp(logits, dim=-1)
    probs = torch.softmax(logits, dim=-1)
    return logz - (probs * logits).sum(-1)


def ppo_loss(
    logp: Tensor,
    old_logp: Tensor,
    adv: Tensor,
    mask: Tensor,
    values: Tensor,
    old_values: Tensor,
    returns: Tensor,
    entropy: Tensor,
    *,
    eps: float,
    vf_coef: float,
    cliprange_value: float,
    entropy_coef: float,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Per-token PPO objective: clipped policy loss + vf_coef * value loss - entropy bonus."""
    # logp, old_logp, adv, mask, values, old_values, returns, entropy: (B, T)
    ratio = (logp - old_logp).exp()  # (B, T)
    pg_tok = -torch.minimum(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)  # (B, T)
    pg = masked_mean(pg_tok, mask)
    vf = value_loss(values, old_values, returns, mask, cliprange_value)
    ent = masked_mean(entropy, mask)
    loss = pg + vf_coef * vf - entropy_coef * ent
    parts = {
        "loss/policy": pg.detach(),
        "loss/value": vf.detach(),
        "loss/entropy": ent.detach(),
    }
    return loss, parts


__all__ = ["clipped_surrogate", "entropy_from_logits", "masked_mean", "ppo_loss", "value_loss"]
