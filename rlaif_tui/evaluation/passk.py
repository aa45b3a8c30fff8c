"""The unbiased pass@k estimator, bootstrap intervals and a paired A/B comparison.

Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1: with n samples
per problem of which c pass, pass@k = E[1 - C(n-c, k) / C(n, k)]. The ratio of binomials is
computed as the product prod_{i=n-c+1}^{n} (1 - k/i), which stays exact in floating point
where the binomials themselves overflow.

k > n: the estimator needs at least k samples, so a problem with n < k has no estimate (NaN
per problem). As the paper's harness does, an aggregate pass@k is only reported when every
problem has n >= k; `mean_pass_at_k` leaves such k out rather than averaging a biased value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]


def _counts(n: ArrayLike, c: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n_arr = np.atleast_1d(np.asarray(n, dtype=np.int64))
    c_arr = np.atleast_1d(np.asarray(c, dtype=np.int64))
    if n_arr.shape != c_arr.shape:
        raise ValueError(f"n and c differ in shape: {n_arr.shape} vs {c_arr.shape}")
    if (c_arr < 0).any() or (c_arr > n_arr).any():
        raise ValueError("every problem needs 0 <= c <= n (correct samples among n)")
    return n_arr, c_arr


def pass_at_k(n: ArrayLike, c: ArrayLike, k: int) -> Floats:
    """Per-problem unbiased pass@k (eq. 1); NaN where n < k. `n`, `c`: (P,) -> (P,)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n_arr, c_arr = _counts(n, c)
    out = np.full(n_arr.shape, np.nan)
    for i, (ni, ci) in enumerate(zip(n_arr.tolist(), c_arr.tolist(), strict=True)):
        if ni < k:
            continue  # undefined: fewer samples than k
        if ni - ci < k:
            out[i] = 1.0  # every k-subset holds a correct sample
        else:
            # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)
            out[i] = 1.0 - float(np.prod(1.0 - k / np.arange(ni - ci + 1, ni + 1)))
    return out


def mean_pass_at_k(n: ArrayLike, c: ArrayLike, ks: Iterable[int]) -> dict[int, float]:
    """Mean pass@k over problems for each k that every problem has enough samples for."""
    n_arr, _ = _counts(n, c)
    if n_arr.size == 0:
        return {}
    return {k: float(pass_at_k(n, c, k).mean()) for k in ks if k <= int(n_arr.min())}


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile-bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float


def _bootstrap_means(values: Floats, resamples: int, seed: int) -> Floats:
    """Means of `resamples` resamples of `values` (with replacement): (P,) -> (R,)."""
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // values.size)  # bound the (rows, P) index block in memory
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        idx = rng.integers(0, values.size, size=(rows, values.size))  # (rows, P)
        means[start : start + rows] = values[idx].mean(axis=1)
    return means


def _interval(estimate: float, boot: Floats, confidence: float) -> Interval:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return Interval(estimate, float(low), float(high), confidence)


def bootstrap_ci(
    per_problem: ArrayLike, *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """Mean of per-problem scores with a CI from resampling problems (with replacement)."""
    values = np.asarray(per_problem, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or np.isnan(values).any():
        raise ValueError("bootstrap_ci needs a non-empty 1-D array without NaN")
    boot = _bootstrap_means(values, resamples, seed)
    return _interval(float(values.mean()), boot, confidence)


@dataclass(frozen=True)
class Comparison:
    """B minus A on the same problems: means, their difference and its paired CI."""

    k: int
    problems: int
    mean_a: float
    mean_b: float
    diff: Interval
    """mean(pass@k of B) - mean(pass@k of A); the CI excludes 0 when B is reliably different."""


def compare_pass_at_k(
    n_a: ArrayLike,
    c_a: ArrayLike,
    n_b: ArrayLike,
    c_b: ArrayLike,
    k: int,
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> Comparison:
    """Paired A/B: per-problem pass@k of B minus A, CI by resampling problems jointly.

    Pairing (the same resampled problems for both models) removes the between-problem
    variance that dominates an unpaired comparison of two means.
    """
    a = pass_at_k(n_a, c_a, k)
    b = pass_at_k(n_b, c_b, k)
    if a.shape != b.shape:
        raise ValueError(f"A and B cover different problem counts: {a.size} vs {b.size}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError(f"pass@{k} needs n >= {k} samples on every problem for both A and B")
    diff = b - a
    interval = _interval(float(diff.mean()), _bootstrap_means(diff, resamples, seed), confidence)
    return Comparison(k, int(diff.size), float(a.mean()), float(b.mean()), interval)
