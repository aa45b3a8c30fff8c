"""Advantage math: the one place the training loop calls it.

The numbers come from the Rust core (`reward_rs/src/advantage/`, bindings in
`rlaif_tui._reward`); this module only fixes dtypes and names. Shapes are flat for sequence
advantages: `rewards` is (n_groups * group_size,) with each group's samples adjacent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from rlaif_tui import _reward

F64 = NDArray[np.float64]


def _f64(x: object) -> F64:
    out: F64 = np.asarray(x, dtype=np.float64)
    return out


def grpo(rewards: F64, group_size: int, scale: str = "group", eps: float = 1e-4) -> F64:
    """(r - mean_group) / (std_group + eps) (Shao et al. 2024, sec. 4.1.2; std with ddof=1
    as TRL); `scale="none"` is Dr.GRPO's r - mean_group, `"batch"` divides by the batch std."""
    if scale == "none":
        return _f64(_reward.dr_grpo_advantages(_f64(rewards), group_size))
    if scale not in ("group", "batch"):
        raise ValueError(f"unknown scale {scale!r}; valid: group, batch, none")
    return _f64(_reward.grpo_advantages(_f64(rewards), group_size, scale=scale, eps=eps))  # type: ignore[arg-type]


def rloo(rewards: F64, group_size: int) -> F64:
    """Leave-one-out: r_i - mean_{j != i} r_j."""
    return _f64(_reward.rloo_advantages(_f64(rewards), group_size))


def without(
    advantages: Callable[[F64, int], F64], rewards: F64, keep: NDArray[np.bool_], group_size: int
) -> F64:
    """`advantages(rewards, group_size)` with the samples where `keep` is False left out of
    their group: a group's kept samples are scored among themselves (none, or one alone: all
    0), and the left-out samples get 0."""
    out = advantages(rewards, group_size).copy()
    keep = np.asarray(keep, dtype=bool)
    for g in np.flatnonzero(~keep.reshape(-1, group_size).all(axis=1)):
        rows = np.arange(g * group_size, (g + 1) * group_size)
        kept = rows[keep[rows]]
        out[rows] = 0.0
        if len(kept) >= 2:
            out[kept] = advantages(_f64(rewards[kept]), len(kept))
    return out


def zero_variance_groups(rewards: F64, group_size: int) -> NDArray[np.bool_]:
    """Groups whose rewards are all equal (they carry no GRPO/RLOO signal)."""
    r = np.asarray(rewards).reshape(-1, group_size)
    return np.asarray(np.ptp(r, axis=1) == 0)


def gae(rewards: F64, values: F64, mask: F64, gamma: float, lam: float) -> tuple[F64, F64]:
    """GAE (Schulman et al. 2016, eq. 16) over (B, T) token rewards; returns (adv, returns).
    Positions where `mask` is 0 are skipped and get 0."""
    adv, ret = _reward.gae(
        _f64(rewards), _f64(values), np.asarray(mask, dtype=bool), gamma=gamma, lam=lam
    )
    return _f64(adv), _f64(ret)


def whiten(x: F64, mask: F64, shift_mean: bool = True) -> F64:
    """Masked whitening over valid positions (0 elsewhere)."""
    m = np.asarray(mask, dtype=bool)
    out = _f64(_reward.masked_whiten(_f64(x), m, shift_mean=shift_mean))
    return np.where(m, out, 0.0)
