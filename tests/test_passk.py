from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlaif_tui.evaluation.passk import (
    bootstrap_ci,
    compare_pass_at_k,
    mean_pass_at_k,
    pass_at_k,
)


def closed_form(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def brute_force(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of the n samples that contain at least one passing sample."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(samples, k))
    return sum(any(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [(10, 3, 1), (10, 3, 5), (20, 1, 10), (200, 13, 100), (5, 2, 4), (100, 50, 1)],
)
def test_matches_closed_form(n: int, c: int, k: int) -> None:
    assert pass_at_k([n], [c], k)[0] == pytest.approx(closed_form(n, c, k), rel=1e-12)


def test_pass_at_1_is_the_pass_rate() -> None:
    n = np.array([10, 20, 7])
    c = np.array([3, 0, 7])
    assert pass_at_k(n, c, 1) == pytest.approx(c / n)


def test_large_n_stays_finite_where_binomials_overflow_floats() -> None:
    # C(2000, 1000) is ~1e600: as floats the closed form is inf/inf; the product is fine.
    value = pass_at_k([2000], [3], 1000)[0]
    expected = 1.0 - math.comb(1997, 1000) / math.comb(2000, 1000)  # exact integers
    assert value == pytest.approx(expected, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n)))
)
def test_matches_enumeration_of_subsets(case: tuple[int, int, int]) -> None:
    n, c, k = case
    assert pass_at_k([n], [c], k)[0] == pytest.approx(brute_force(n, c, k), abs=1e-12)


def test_matches_sampled_subsets_on_random_cases() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(10, 40))
        c = int(rng.integers(0, n + 1))
        k = int(rng.integers(1, n + 1))
        correct = np.zeros(n, dtype=bool)
        correct[:c] = True
        hits = [correct[rng.choice(n, size=k, replace=False)].any() for _ in range(4000)]
        # 4000 draws: standard error <= 0.008, so 0.04 is five standard errors.
        assert pass_at_k([n], [c], k)[0] == pytest.approx(np.mean(hits), abs=0.04)


def test_edge_cases() -> None:
    assert pass_at_k([5], [0], 3)[0] == 0.0  # c = 0
    assert pass_at_k([5], [5], 3)[0] == 1.0  # c = n
    assert pass_at_k([5], [1], 5)[0] == 1.0  # k = n: the one subset holds every sample
    assert pass_at_k([5], [0], 5)[0] == 0.0
    assert pass_at_k([6], [2], 5)[0] == 1.0  # n - c < k


def test_k_above_n_is_undefined_and_left_out_of_the_mean() -> None:
    per_problem = pass_at_k([10, 3], [1, 1], 5)
    assert not math.isnan(per_problem[0])
    assert math.isnan(per_problem[1])
    means = mean_pass_at_k([10, 3], [1, 1], [1, 3, 5])
    assert set(means) == {1, 3}  # k = 5 skipped: one problem has only 3 samples
    assert means[1] == pytest.approx((0.1 + 1 / 3) / 2)


def test_bad_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k([3], [4], 1)
    with pytest.raises(ValueError, match="differ in shape"):
        pass_at_k([3, 4], [1], 1)
    with pytest.raises(ValueError, match="k must be"):
        pass_at_k([3], [1], 0)


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_problems() -> None:
    rng = np.random.default_rng(0)
    small = rng.random(20)
    large = rng.random(2000)
    ci_small = bootstrap_ci(small, resamples=2000)
    ci_large = bootstrap_ci(large, resamples=2000)
    for ci, values in ((ci_small, small), (ci_large, large)):
        assert ci.low < ci.estimate < ci.high
        assert ci.estimate == pytest.approx(values.mean())
    assert ci_large.high - ci_large.low < (ci_small.high - ci_small.low) / 3
    # Same seed, same interval.
    assert bootstrap_ci(small, resamples=2000) == ci_small


def test_bootstrap_of_a_constant_is_a_point() -> None:
    ci = bootstrap_ci(np.full(30, 0.25), resamples=500)
    assert (ci.low, ci.estimate, ci.high) == (0.25, 0.25, 0.25)


def test_paired_comparison_detects_a_consistent_gain_an_unpaired_one_would_miss() -> None:
    rng = np.random.default_rng(1)
    problems = 60
    n = np.full(problems, 20)
    # Problem difficulty varies a lot; B solves exactly 2 more samples than A everywhere.
    c_a = rng.integers(0, 15, size=problems)
    c_b = c_a + 2
    result = compare_pass_at_k(n, c_a, n, c_b, 1, resamples=4000)
    assert result.diff.estimate == pytest.approx(0.1)
    assert result.mean_b - result.mean_a == pytest.approx(0.1)
    assert result.diff.low > 0.0  # paired: the gain is certain
    # Unpaired intervals of the two means overlap, so they alone could not show it.
    ci_a = bootstrap_ci(pass_at_k(n, c_a, 1), resamples=4000)
    ci_b = bootstrap_ci(pass_at_k(n, c_b, 1), resamples=4000, seed=1)
    assert ci_a.high > ci_b.low


def test_comparison_of_equal_models_straddles_zero() -> None:
    rng = np.random.default_rng(2)
    n = np.full(80, 10)
    c_a = rng.integers(0, 11, size=80)
    c_b = np.clip(c_a + rng.integers(-2, 3, size=80), 0, 10)
    result = compare_pass_at_k(n, c_a, n, c_b, 1, resamples=4000)
    assert result.diff.low < result.diff.estimate < result.diff.high
    assert result.diff.low < 0.0 < result.diff.high
    with pytest.raises(ValueError, match="n >= 20"):
        compare_pass_at_k(n, c_a, n, c_b, 20)
