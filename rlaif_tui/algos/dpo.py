"""Direct preference optimisation losses on sequence log-probabilities.

Given a pair (chosen y_w, rejected y_l) for a prompt x, the policy pi and the frozen reference
pi_ref, both losses work on

    h = (log pi(y_w|x) - log pi_ref(y_w|x)) - (log pi(y_l|x) - log pi_ref(y_l|x)).

- `sigmoid` (DPO): -log sigma(beta h)  (Rafailov et al. 2023, eq. 7), with optional label
  smoothing eps for noisy preferences (conservative DPO): -(1-eps) log sigma(beta h) -
  eps log sigma(-beta h).
- `ipo` (IPO): (h - 1 / (2 tau))^2  (Azar et al. 2023, eq. 17; `beta` plays tau). As in TRL,
  the caller passes log-probs averaged over completion tokens for IPO.

The implicit rewards beta (log pi - log pi_ref) of chosen and rejected are returned for metrics:
their difference is the margin DPO pushes up.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from rlaif_tui.algos import DPO_LOSS_TYPES


@dataclass
class DPOOutput:
    loss: Tensor
    """Mean over pairs (scalar)."""
    chosen_rewards: Tensor
    """beta (log pi - log pi_ref) of the chosen completions, detached: (B,)."""
    rejected_rewards: Tensor
    """The same for the rejected completions: (B,)."""

    @property
    def margin(self) -> Tensor:
        return self.chosen_rewards - self.rejected_rewards

    @property
    def accuracy(self) -> Tensor:
        return (self.margin > 0).float().mean()


def dpo_loss(
    policy_chosen: Tensor,
    policy_rejected: Tensor,
    ref_chosen: Tensor,
    ref_rejected: Tensor,
    *,
    beta: float = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
) -> DPOOutput:
    """DPO / IPO loss of a batch of pairs; all inputs are sequence log-probs of shape (B,)."""
    if loss_type not in DPO_LOSS_TYPES:
        raise ValueError(f"loss_type {loss_type!r} is not one of {', '.join(DPO_LOSS_TYPES)}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    chosen_ratio = policy_chosen - ref_chosen  # (B,)
    rejected_ratio = policy_rejected - ref_rejected  # (B,)
    h = chosen_ratio - rejected_ratio  # (B,)
    if loss_type == "sigmoid":
        losses = -(1 - label_smoothing) * F.logsigmoid(beta * h) - label_smoothing * F.logsigmoid(
            -beta * h
        )
    else:
        losses = (h - 1 / (2 * beta)) ** 2
    return DPOOutput(
        loss=losses.mean(),
        chosen_rewards=(beta * chosen_ratio).detach(),
        rejected_rewards=(beta * rejected_ratio).detach(),
    )


def sequence_logps(
    logits: Tensor, labels: Tensor, mask: Tensor, *, average: bool = False
) -> Tensor:
    """Sum (or mean) of per-token log-probs of `labels` where `mask` is set.

    logits: (B, T, V) predicting token t+1 at position t; labels, mask: (B, T) aligned with
    the input ids (the first position is never a target).
    """
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)  # (B, T-1, V)
    target = labels[:, 1:]  # (B, T-1)
    m = mask[:, 1:].to(logp.dtype)  # (B, T-1)
    per_token = torch.gather(logp, 2, target.unsqueeze(-1)).squeeze(-1) * m  # (B, T-1)
    total = per_token.sum(-1)  # (B,)
    return total / m.sum(-1).clamp(min=1) if average else total
