"""The loss functions and advantage math on cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlaif_tui.algos import grpo, kl, ppo, rloo
from rlaif_tui.train import advantages

MASK = torch.tensor([[1, 1, 0], [1, 0, 0]])
ADV = torch.tensor([1.0, -1.0])


def test_grpo_aggregations_on_policy() -> None:
    logp = torch.zeros(2, 3)
    per_token, _ = grpo.clipped_surrogate(logp, logp, ADV, 0.2, 0.2)
    # ratio = 1 everywhere, so each valid token contributes -A
    assert grpo.aggregate(per_token, MASK, "dapo", 3).item() == pytest.approx((-1 - 1 + 1) / 3)
    assert grpo.aggregate(per_token, MASK, "grpo", 3).item() == pytest.approx(0.0)
    assert grpo.aggregate(per_token, MASK, "dr_grpo", 3).item() == pytest.approx(-1 / 6)
    with pytest.raises(ValueError, match="valid: dapo, grpo, dr_grpo"):
        grpo.aggregate(per_token, MASK, "token_sum", 3)


def test_grpo_clip_low_high() -> None:
    old = torch.zeros(2, 1)
    logp = torch.full((2, 1), 0.5)  # ratio e^0.5 = 1.6487
    per_token, clipped = grpo.clipped_surrogate(logp, old, ADV, 0.2, 0.28)
    # A > 0: min(1.6487, 1.28) -> clipped at 1 + eps_high
    assert per_token[0, 0].item() == pytest.approx(-1.28)
    # A < 0: min(-1.6487, -1.28) = -1.6487: the pessimistic bound is not clipped
    assert per_token[1, 0].item() == pytest.approx(math.exp(0.5))
    assert clipped.tolist() == [[True], [False]]
    logp_low = torch.full((2, 1), -0.5)  # ratio 0.6065 below 1 - eps_low = 0.8
    per_token, _ = grpo.clipped_surrogate(logp_low, old, ADV, 0.2, 0.28)
    assert per_token[0, 0].item() == pytest.approx(-math.exp(-0.5))
    assert per_token[1, 0].item() == pytest.approx(0.8)


def test_grpo_loss_adds_beta_times_k3() -> None:
    logp = torch.tensor([[-1.0, -2.0, 0.0], [-1.0, 0.0, 0.0]])
    ref = torch.tensor([[-0.5, -2.0, 0.0], [-1.5, 0.0, 0.0]])
    per_kl = kl.per_token_kl(logp, ref, "k3")
    k3 = math.exp(0.5) - 0.5 - 1  # r = +0.5 for token (0, 0)
    k3_neg = math.exp(-0.5) + 0.5 - 1  # r = -0.5 for token (1, 0)
    assert per_kl[0, 0].item() == pytest.approx(k3)
    assert per_kl[0, 1].item() == pytest.approx(0.0)
    assert per_kl[1, 0].item() == pytest.approx(k3_neg)
    loss, parts = grpo.grpo_loss(
        logp,
        logp.detach(),
        ADV,
        MASK,
        kl=per_kl,
        beta=0.1,
        eps_low=0.2,
        eps_high=0.2,
        loss_type="dapo",
        max_tokens=3,
    )
    expected = ((-1 + 0.1 * k3) + (-1 + 0.0) + (1 + 0.1 * k3_neg)) / 3
    assert loss.item() == pytest.approx(expected)
    assert parts["kl/mean"].item() == pytest.approx((k3 + k3_neg) / 3)


def test_k1_and_unknown_estimator() -> None:
    logp = torch.tensor([[-1.0]])
    ref = torch.tensor([[-1.25]])
    assert kl.per_token_kl(logp, ref, "k1").item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="valid: k1, k3"):
        kl.per_token_kl(logp, ref, "k2")


def test_adaptive_kl_controller_ziegler() -> None:
    ctl = kl.AdaptiveKLController(coef=0.1, target=1.0, horizon=100)
    assert ctl.update(2.0, 10) == pytest.approx(0.1 * (1 + 0.2 * 10 / 100))  # error clipped
    ctl = kl.AdaptiveKLController(coef=0.1, target=1.0, horizon=100)
    assert ctl.update(1.1, 10) == pytest.approx(0.1 * (1 + 0.1 * 0.1))
    ctl = kl.AdaptiveKLController(coef=0.1, target=1.0, horizon=100)
    assert ctl.update(0.5, 10) == pytest.approx(0.1 * (1 - 0.2 * 0.1))
    restored = kl.AdaptiveKLController(coef=1.0, target=9.0, horizon=1)
    restored.load_state_dict(ctl.state_dict())
    assert restored == ctl


def test_group_advantages() -> None:
    r = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    a = advantages.grpo(r, 4)
    std = math.sqrt(4 * 0.25 / 3)
    u = 0.5 / (std + 1e-4)
    assert a[:4] == pytest.approx([u, -u, -u, u])
    assert a[4:] == pytest.approx([0, 0, 0, 0])
    assert advantages.grpo(r, 4, scale="none")[:4] == pytest.approx([0.5, -0.5, -0.5, 0.5])
    assert advantages.rloo(r, 4)[:2] == pytest.approx([2 / 3, -2 / 3])
    assert advantages.zero_variance_groups(r, 4).tolist() == [False, True]


def test_gae_by_hand() -> None:
    adv, ret = advantages.gae(
        np.array([[0.0, 0.0, 1.0]]),
        np.array([[0.5, 0.6, 0.7]]),
        np.ones((1, 3)),
        gamma=1.0,
        lam=0.95,
    )
    assert adv[0] == pytest.approx([0.46575, 0.385, 0.3])
    assert ret[0] == pytest.approx([0.96575, 0.985, 1.0])
    # positions past the end (mask 0) neither add reward nor bootstrap a value
    adv2, _ = advantages.gae(
        np.array([[0.0, 1.0, 0.0]]),
        np.array([[0.5, 0.6, 9.0]]),
        np.array([[1.0, 1.0, 0.0]]),
        gamma=1.0,
        lam=1.0,
    )
    assert adv2[0] == pytest.approx([0.5, 0.4, 0.0])


def test_ppo_value_clipping_and_loss() -> None:
    one = torch.ones(1, 1)
    vf = ppo.value_loss(
        torch.tensor([[1.0]]), torch.tensor([[0.5]]), torch.tensor([[2.0]]), one, clip=0.2
    )
    assert vf.item() == pytest.approx(0.5 * (0.7 - 2.0) ** 2)
    logits = torch.zeros(1, 1, 4)
    ent = ppo.entropy_from_logits(logits)
    assert ent.item() == pytest.approx(math.log(4))
    loss, parts = ppo.ppo_loss(
        torch.zeros(1, 1),
        torch.zeros(1, 1),
        torch.tensor([[2.0]]),
        one,
        torch.tensor([[1.0]]),
        torch.tensor([[0.5]]),
        torch.tensor([[2.0]]),
        ent,
        eps=0.2,
        vf_coef=0.5,
        cliprange_value=0.2,
        entropy_coef=0.01,
    )
    assert loss.item() == pytest.approx(-2.0 + 0.5 * 0.845 - 0.01 * math.log(4))
    assert parts["loss/value"].item() == pytest.approx(0.845)


def test_rloo_loss_is_reinforce_on_policy() -> None:
    logp = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0]], requires_grad=True)
    loss, _ = rloo.rloo_loss(
        logp, logp.detach(), torch.tensor([2 / 3, -2 / 3]), MASK, kl=None, beta=0.0, eps=0.2
    )
    assert loss.item() == pytest.approx((-(2 / 3) * 2 + (2 / 3) * 1) / 2)
    loss.backward()
    assert logp.grad is not None
    # d loss / d logp_t = -A_i / B on valid tokens (REINFORCE), 0 on padding
    expected = torch.tensor([[-1 / 3, -1 / 3, 0.0], [1 / 3, 0.0, 0.0]])
    assert torch.allclose(logp.grad, expected)
