"""The Rust advantage math against plain NumPy references written here.

The references follow the papers' formulas and TRL's code directly (`(r - mean) / (std + eps)`
with the sample std, `masked_whiten`, the PPO GAE loop), so a disagreement points at the Rust.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rlaif_tui import _reward
from rlaif_tui._reward import InvalidInput, RewardError

F64 = npt.NDArray[np.float64]
Scale = Literal["group", "batch", "none"]
SCALES: tuple[Scale, ...] = ("group", "batch", "none")

# Rewards as a trainer sees them: mostly pass/fail-like values (so groups are often all-equal),
# sometimes arbitrary. Bounded so that the f64 reference itself stays exact enough to compare.
reward_values = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 1.0, -1.0]),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@st.composite
def grouped_rewards(draw: st.DrawFn) -> tuple[F64, int]:
    size = draw(st.integers(1, 8))
    groups = draw(st.integers(0, 6))
    values = draw(st.lists(reward_values, min_size=size * groups, max_size=size * groups))
    return np.array(values, dtype=np.float64), size


def ref_grpo(r: F64, g: int, scale: Scale, eps: float, ddof: int) -> F64:
    grouped = r.reshape(-1, g)
    centred = grouped - grouped.mean(axis=1, keepdims=True)
    if scale == "none":
        return np.asarray(centred.reshape(-1), dtype=np.float64)
    if scale == "group":
        std = grouped.std(axis=1, ddof=ddof, keepdims=True) if g > ddof else 0.0
    else:
        std = r.std(ddof=ddof) if r.size > ddof else 0.0
    return np.asarray((centred / (std + eps)).reshape(-1), dtype=np.float64)


def ref_rloo(r: F64, g: int) -> F64:
    grouped = r.reshape(-1, g)
    others = (grouped.sum(axis=1, keepdims=True) - grouped) / (g - 1)
    return np.asarray((grouped - others).reshape(-1), dtype=np.float64)


def assert_close(got: Any, want: Any, *, scale: float = 1.0, rtol: float = 1e-9) -> None:
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, scale))


@given(grouped_rewards(), st.sampled_from(SCALES), st.sampled_from([0, 1]))
@settings(max_examples=200, deadline=None)
def test_grpo_matches_numpy(case: tuple[F64, int], scale: Scale, ddof: int) -> None:
    r, g = case
    got = _reward.grpo_advantages(r, g, scale=scale, ddof=ddof)
    assert got.dtype == np.float64
    # Advantages are at most |r - mean| / eps; the error of a difference grows with |r|.
    magnitude = float(np.abs(r).max(initial=0.0)) / 1e-4
    assert_close(got, ref_grpo(r, g, scale, 1e-4, ddof), scale=magnitude, rtol=1e-12)


@given(grouped_rewards())
@settings(max_examples=200, deadline=None)
def test_dr_grpo_and_rloo_match_numpy(case: tuple[F64, int]) -> None:
    r, g = case
    scale = float(np.abs(r).max(initial=0.0))
    assert_close(_reward.dr_grpo_advantages(r, g), ref_grpo(r, g, "none", 0.0, 1), scale=scale)
    if g >= 2:
        assert_close(_reward.rloo_advantages(r, g), ref_rloo(r, g), scale=scale)
    elif r.size:
        with pytest.raises(InvalidInput, match="at least 2 rewards per group"):
            _reward.rloo_advantages(r, g)


@given(st.data(), grouped_rewards())
@settings(max_examples=150, deadline=None)
def test_group_ids_in_any_order_equal_contiguous_groups(data: st.DataObject, case: Any) -> None:
    r, g = case
    ids = np.repeat(np.arange(r.size // g) * 7 - 3, g)  # arbitrary, negative ids included
    perm = np.array(data.draw(st.permutations(range(r.size))), dtype=np.intp)
    for fn in (_reward.grpo_advantages, _reward.dr_grpo_advantages):
        want = fn(r, g)
        got = fn(r[perm], group_ids=ids[perm])
        assert_close(got, want[perm], scale=float(np.abs(r).max(initial=0.0)) / 1e-4)


@given(st.lists(st.tuples(st.integers(-3, 3), reward_values), max_size=30))
@settings(max_examples=200, deadline=None)
def test_any_group_ids_match_a_per_group_reference(pairs: list[tuple[int, float]]) -> None:
    ids = np.array([i for i, _ in pairs], dtype=np.int64)
    r = np.array([x for _, x in pairs], dtype=np.float64)
    want_grpo, want_rloo = np.zeros_like(r), np.zeros_like(r)
    for gid in np.unique(ids):
        members = ids == gid
        group = r[members]
        want_grpo[members] = ref_grpo(group, group.size, "group", 1e-4, 1)
        if group.size > 1:
            want_rloo[members] = ref_rloo(group, group.size)
    scale = float(np.abs(r).max(initial=0.0)) / 1e-4
    assert_close(_reward.grpo_advantages(r, group_ids=ids), want_grpo, scale=scale)
    if all(np.count_nonzero(ids == gid) > 1 for gid in np.unique(ids)):
        assert_close(
            _reward.rloo_advantages(r, group_ids=ids.astype(np.int32)), want_rloo, scale=scale
        )
    else:
        with pytest.raises(InvalidInput, match=r"group id -?[0-9]+ has 1"):
            _reward.rloo_advantages(r, group_ids=ids)


@given(st.lists(st.sampled_from([0.1, 0.3, 1 / 3, 7.0, -2.5]), min_size=1, max_size=6), st.data())
def test_all_equal_groups_are_exactly_zero(values: list[float], data: st.DataObject) -> None:
    g = data.draw(st.integers(2, 5))
    r = np.repeat(np.array(values), g)
    for scale in SCALES:
        for eps in (0.0, 1e-4):
            got = _reward.grpo_advantages(r, g, scale=scale, eps=eps)
            assert np.array_equal(got, np.zeros_like(r)), (scale, eps, got)
    assert np.array_equal(_reward.rloo_advantages(r, g), np.zeros_like(r))


def test_naive_numpy_is_not_exactly_zero_for_equal_rewards() -> None:
    # Why the property above matters: NumPy's own mean leaves residue that eps then amplifies.
    r = np.full(3, 0.1)
    assert not np.array_equal(r - r.mean(), np.zeros(3))


def test_groups_of_one() -> None:
    r = np.array([3.0, -1.0, 2.5])
    for scale in SCALES:
        for ddof in (0, 1):
            got = _reward.grpo_advantages(r, 1, scale=scale, ddof=ddof, eps=0.0)
            assert np.array_equal(got, np.zeros(3))
    with pytest.raises(InvalidInput, match="group id 9 has 1"):
        _reward.rloo_advantages([1.0, 2.0, 3.0], group_ids=[4, 9, 4])


def test_trl_default_convention_by_hand() -> None:
    # torch.tensor([1., 2., 4.]).std() == sqrt(7/3) (unbiased); TRL divides by std + 1e-4.
    r = np.array([1.0, 2.0, 4.0])
    want = (r - r.mean()) / (np.sqrt(7 / 3) + 1e-4)
    np.testing.assert_allclose(_reward.grpo_advantages(r, 3), want, rtol=1e-14)


@given(grouped_rewards(), st.sampled_from(["grpo", "dr_grpo", "rloo"]))
@settings(max_examples=100, deadline=None)
def test_float32_in_float32_out(case: tuple[F64, int], which: str) -> None:
    r, g = case
    assume(which != "rloo" or g >= 2)
    fn = getattr(_reward, f"{which}_advantages")
    r32 = r.astype(np.float32)
    got = fn(r32, g)
    assert got.dtype == np.float32
    want = fn(r32.astype(np.float64), g)
    magnitude = float(np.abs(want).max(initial=0.0))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * max(1.0, magnitude))


def test_lists_and_ints_are_accepted_as_float64() -> None:
    got = _reward.dr_grpo_advantages([0, 1, 1, 1], 2)
    assert got.dtype == np.float64
    assert got.tolist() == [-0.5, 0.5, 0.0, 0.0]


@given(grouped_rewards(), st.data(), st.sampled_from([np.nan, np.inf, -np.inf]))
@settings(max_examples=100, deadline=None)
def test_non_finite_rewards_are_a_clear_error(case: Any, data: st.DataObject, bad: float) -> None:
    r, g = case
    assume(r.size > 0)
    at = data.draw(st.integers(0, r.size - 1))
    r[at] = bad
    for fn in (_reward.grpo_advantages, _reward.dr_grpo_advantages, _reward.rloo_advantages):
        with pytest.raises(InvalidInput, match=rf"rewards\[{at}\] is (NaN|inf|-inf)"):
            fn(r, g)  # the finiteness check comes before any check of the groups


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _reward.grpo_advantages(np.zeros(5), 2), r"shape \(5,\).*groups of 2"),
        (lambda: _reward.grpo_advantages(np.zeros((2, 2)), 2), r"1-D.*got shape \(2, 2\)"),
        (
            lambda: _reward.grpo_advantages(np.zeros(3), group_ids=[1, 2]),
            r"rewards has shape \(3,\) but group_ids has shape \(2,\)",
        ),
        (lambda: _reward.grpo_advantages(np.zeros(3)), "give group_size or group_ids"),
        (lambda: _reward.grpo_advantages(np.zeros(2), 2, group_ids=[1, 1]), "not both"),
        (lambda: _reward.grpo_advantages(np.zeros(2), 0), "group_size must be at least 1"),
        (
            lambda: _reward.grpo_advantages(np.zeros(2), 2, scale="std"),  # type: ignore[arg-type]
            "'group', 'batch', 'none'",
        ),
        (lambda: _reward.grpo_advantages(np.zeros(2), 2, ddof=2), "ddof must be 0"),
        (lambda: _reward.grpo_advantages(np.zeros(2), 2, eps=-1.0), "eps must be finite"),
        (lambda: _reward.grpo_advantages(["a", "b"], 2), "must hold numbers"),
        (lambda: _reward.grpo_advantages([1.0, 2.0], group_ids=[0.5, 1]), "integers"),
        (
            lambda: _reward.grpo_advantages([1.0, 2.0], group_ids=[[1, 1]]),
            r"group_ids must be 1-D.*\(1, 2\)",
        ),
        (lambda: _reward.gae(np.zeros((2, 3)), np.zeros((2, 2)), np.ones((2, 3))), r"\(2, 3\)"),
        (lambda: _reward.gae(np.zeros(3), np.zeros(3), np.ones(3)), r"2-D \(B, T\)"),
        (lambda: _reward.gae(np.zeros((1, 2)), np.zeros((1, 2)), [[1, 1]], gamma=2), "gamma"),
        (lambda: _reward.masked_whiten(np.zeros((2, 3)), np.ones(3)), r"mask has shape \(3,\)"),
        (lambda: _reward.masked_whiten(np.zeros(2), [1.0, 0.5]), r"mask\[1\] is 0.5"),
    ],
)
def test_bad_arguments_are_named(call: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        call()
    assert isinstance(info.value, RewardError)


# ----- masked whitening ------------------------------------------------------------------


@st.composite
def masked_arrays(draw: st.DrawFn) -> tuple[F64, npt.NDArray[np.bool_]]:
    b, t = draw(st.integers(1, 5)), draw(st.integers(1, 7))
    values = draw(st.lists(reward_values, min_size=b * t, max_size=b * t))
    mask = draw(st.lists(st.booleans(), min_size=b * t, max_size=b * t))
    if draw(st.booleans()):
        mask[:t] = [False] * t  # an all-zero row
    return np.array(values).reshape(b, t), np.array(mask).reshape(b, t)


def ref_whiten(v: F64, m: npt.NDArray[np.bool_], shift_mean: bool, ddof: int) -> F64:
    valid = v[m]
    if valid.size == 0:
        return np.zeros_like(v)
    mean = valid.mean()
    var = valid.var(ddof=ddof) if valid.size > ddof else 0.0
    out = (v - mean) / np.sqrt(var + 1e-8)
    if not shift_mean:
        out = out + mean
    return np.where(m, out, 0.0)


@given(masked_arrays(), st.booleans(), st.sampled_from([0, 1]))
@settings(max_examples=200, deadline=None)
def test_masked_whiten_matches_numpy(case: Any, shift_mean: bool, ddof: int) -> None:
    v, m = case
    got = _reward.masked_whiten(v, m, shift_mean=shift_mean, ddof=ddof)
    magnitude = float(np.abs(v).max()) / 1e-4  # sqrt(1e-8) bounds the scaling
    assert_close(got, ref_whiten(v, m, shift_mean, ddof), scale=magnitude, rtol=1e-12)
    assert np.all(got[~m] == 0.0)


@given(masked_arrays())
def test_masked_whiten_accepts_numeric_masks_and_float32(case: Any) -> None:
    v, m = case
    want = _reward.masked_whiten(v, m)
    for mask in (m.astype(np.float32), m.astype(np.int64), m.tolist()):
        np.testing.assert_array_equal(_reward.masked_whiten(v, mask), want)
    got32 = _reward.masked_whiten(v.astype(np.float32), m)
    assert got32.dtype == np.float32
    want32 = _reward.masked_whiten(v.astype(np.float32).astype(np.float64), m)
    np.testing.assert_allclose(got32, want32, rtol=1e-6, atol=1e-5 * max(1.0, np.abs(want32).max()))


def test_masked_out_nan_is_still_an_error() -> None:
    v = np.array([[1.0, np.nan]])
    with pytest.raises(InvalidInput, match=r"values\[0, 1\] is NaN"):
        _reward.masked_whiten(v, np.array([[True, False]]))


# ----- GAE ---------------------------------------------------------------------------------


@st.composite
def gae_case(draw: st.DrawFn, right_padded: bool) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
    b, t = draw(st.integers(1, 4)), draw(st.integers(1, 8))
    rewards = np.array(draw(st.lists(reward_values, min_size=b * t, max_size=b * t)))
    values = np.array(draw(st.lists(reward_values, min_size=b * t, max_size=b * t)))
    if right_padded:
        lengths = draw(st.lists(st.integers(0, t), min_size=b, max_size=b))
        mask = np.arange(t)[None, :] < np.array(lengths)[:, None]
    else:
        mask = np.array(draw(st.lists(st.booleans(), min_size=b * t, max_size=b * t)))
    return rewards.reshape(b, t), values.reshape(b, t), mask.reshape(b, t)


def ref_gae_trl(r: F64, v: F64, m: npt.NDArray[np.bool_], gamma: float, lam: float) -> Any:
    # TRL's PPO loop: rewards and values zeroed at padding, value after the end = 0.
    r, v = np.where(m, r, 0.0), np.where(m, v, 0.0)
    t_len = r.shape[1]
    last = np.zeros(r.shape[0])
    adv = np.zeros_like(r)
    for t in reversed(range(t_len)):
        next_v = v[:, t + 1] if t < t_len - 1 else 0.0
        delta = r[:, t] + gamma * next_v - v[:, t]
        last = delta + gamma * lam * last
        adv[:, t] = last
    return np.where(m, adv, 0.0), np.where(m, adv + v, 0.0)


def ref_gae_compressed(r: F64, v: F64, m: npt.NDArray[np.bool_], gamma: float, lam: float) -> Any:
    # Holes are skipped: run the textbook recursion on each row's valid tokens only.
    adv, ret = np.zeros_like(r), np.zeros_like(r)
    for b in range(r.shape[0]):
        idx = np.flatnonzero(m[b])
        rr, vv = r[b, idx], v[b, idx]
        next_v = np.append(vv[1:], 0.0)
        deltas = rr + gamma * next_v - vv
        a = np.zeros(idx.size)
        running = 0.0
        for k in reversed(range(idx.size)):
            running = deltas[k] + gamma * lam * running
            a[k] = running
        adv[b, idx], ret[b, idx] = a, a + vv
    return adv, ret


coefs = st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 1.0])


@given(gae_case(right_padded=True), coefs, coefs)
@settings(max_examples=200, deadline=None)
def test_gae_matches_trl_on_right_padded_masks(case: Any, gamma: float, lam: float) -> None:
    r, v, m = case
    adv, ret = _reward.gae(r, v, m, gamma=gamma, lam=lam)
    want_adv, want_ret = ref_gae_trl(r, v, m, gamma, lam)
    scale = float(np.abs(r).max() + np.abs(v).max()) * r.shape[1]
    assert_close(adv, want_adv, scale=scale)
    assert_close(ret, want_ret, scale=scale)


@given(gae_case(right_padded=False), coefs, coefs)
@settings(max_examples=200, deadline=None)
def test_gae_skips_masked_tokens(case: Any, gamma: float, lam: float) -> None:
    r, v, m = case
    adv, ret = _reward.gae(r, v, m, gamma=gamma, lam=lam)
    want_adv, want_ret = ref_gae_compressed(r, v, m, gamma, lam)
    scale = float(np.abs(r).max() + np.abs(v).max()) * r.shape[1]
    assert_close(adv, want_adv, scale=scale)
    assert_close(ret, want_ret, scale=scale)
    assert np.all(adv[~m] == 0.0)
    assert np.all(ret[~m] == 0.0)


@given(gae_case(right_padded=False), st.data())
@settings(max_examples=50, deadline=None)
def test_gae_float32_and_nan(case: Any, data: st.DataObject) -> None:
    r, v, m = case
    adv32, ret32 = _reward.gae(r.astype(np.float32), v.astype(np.float32), m)
    assert adv32.dtype == ret32.dtype == np.float32
    adv_mixed, _ = _reward.gae(r.astype(np.float32), v, m)
    assert adv_mixed.dtype == np.float64
    b = data.draw(st.integers(0, r.shape[0] - 1))
    t = data.draw(st.integers(0, r.shape[1] - 1))
    v[b, t] = np.nan
    with pytest.raises(InvalidInput, match=rf"values\[{b}, {t}\] is NaN"):
        _reward.gae(r, v, m)


def test_gae_by_hand() -> None:
    # One valid token then padding; γ = λ = 1: advantage = reward - value, return = reward.
    adv, ret = _reward.gae([[2.0, 9.0]], [[0.5, 9.0]], [[1, 0]], gamma=1.0, lam=1.0)
    assert adv.tolist() == [[1.5, 0.0]]
    assert ret.tolist() == [[2.0, 0.0]]
