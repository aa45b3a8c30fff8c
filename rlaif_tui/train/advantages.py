"""Advantage math: the one place the training loop calls it.

The Rust core (`reward_rs/src/advantage.rs`, exposed as `rlaif_tui._reward`) owns these
functions; until its bindings are on main this module computes the same quantities with numpy,
so switching is a change here only. Shapes are flat: `rewards` is (n_groups * group_size,) with
each group's samples adjacent.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def grpo(rewards: F64, group_size: int, scale: str = "group", eps: float = 1e-4) -> F64:
    """(r - mean_group) / (std_group + eps) (Shao et al. 2024, sec. 4.1.2); `scale="none"` is
    Dr.GRPO's unscaled r - mean_group, `"batch"` divides by the batch's std instead."""
    r = rewards.reshape(-1, group_size)  # (G, k)
    centred = r - r.mean(axis=1, keepdims=True)
    if scale == "group":
        centred = centred / (r.std(axis=1, ddof=1, keepdims=True) + eps)
    elif scale == "batch":
        centred = centred / (rewards.std(ddof=1) + eps)
    elif scale != "none":
        raise ValueError(f"unknown scale {scale!r}; valid: group, batch, none")
    out: F64 = centred.reshape(-1)
    return out


def rloo(rewards: F64, group_size: int) -> F64:
    """Leave-one-out: r_i - mean_{j != i} r_j = k / (k - 1) * (r_i - mean)."""
    r = rewards.reshape(-1, group_size)
    baseline = (r.sum(axis=1, keepdims=True) - r) / (group_size - 1)
    out: F64 = (r - baseline).reshape(-1)
    return out


def zero_variance_groups(rewards: F64, group_size: int) -> NDArray[np.bool_]:
    """Groups whose rewards are all equal (they carry no GRPO/RLOO signal)."""
    r = rewards.reshape(-1, group_size)
    return np.asarray(np.ptp(r, axis=1) == 0)


def gae(rewards: F64, values: F64, mask: F64, gamma: float, lam: float) -> tuple[F64, F64]:
    """GAE (Schulman et al. 2016, eq. 16) over (B, T) token rewards; returns (adv, returns).
    Positions where `mask` is 0 (padding after the completion) have zero value and reward."""
    b, t = rewards.shape
    adv = np.zeros((b, t))
    last = np.zeros(b)
    for i in range(t - 1, -1, -1):
        next_v = values[:, i + 1] * mask[:, i + 1] if i + 1 < t else np.zeros(b)
        delta = rewards[:, i] + gamma * next_v - values[:, i]
        last = (delta + gamma * lam * last) * mask[:, i]
        adv[:, i] = last
    return adv, adv + values


def whiten(x: F64, mask: F64, shift_mean: bool = True) -> F64:
    """Masked whitening: (x - mean) / std over the valid positions."""
    m = mask.astype(bool)
    mean = x[m].mean()
    std = x[m].std()
    out = (x - mean) / (std + 1e-8)
    if not shift_mean:  # keep the mean, rescale only the spread
        out = out + mean
    return np.where(m, out, 0.0)
