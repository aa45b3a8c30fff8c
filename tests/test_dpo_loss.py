"""DPO and IPO losses on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from rlaif_tui.algos.dpo import dpo_loss, sequence_logps


def t(*xs: float) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64)


def test_sigmoid_loss_by_hand() -> None:
    # pair 1: h = (-1 - -2) - (-3 - -2) = 1 - (-1) = 2; pair 2: h = (0 - 0) - (1 - 0) = -1
    out = dpo_loss(t(-1.0, 0.0), t(-3.0, 1.0), t(-2.0, 0.0), t(-2.0, 0.0), beta=0.5)
    want = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(0.5))) / 2
    assert float(out.loss) == pytest.approx(want)
    assert out.chosen_rewards.tolist() == pytest.approx([0.5, 0.0])
    assert out.rejected_rewards.tolist() == pytest.approx([-0.5, 0.5])
    assert out.margin.tolist() == pytest.approx([1.0, -0.5])
    assert float(out.accuracy) == 0.5


def test_label_smoothing_by_hand() -> None:
    out = dpo_loss(t(0.0), t(-2.0), t(0.0), t(0.0), beta=1.0, label_smoothing=0.1)
    # h = 2: 0.9 * log(1 + e^-2) + 0.1 * log(1 + e^2)
    want = 0.9 * math.log1p(math.exp(-2)) + 0.1 * math.log1p(math.exp(2))
    assert float(out.loss) == pytest.approx(want)


def test_ipo_loss_by_hand() -> None:
    # h = 2 and h = -1 with tau = 0.25: target 1 / (2 tau) = 2 -> (0)^2 and (-3)^2
    out = dpo_loss(
        t(-1.0, 0.0), t(-3.0, 1.0), t(-2.0, 0.0), t(-2.0, 0.0), beta=0.25, loss_type="ipo"
    )
    assert float(out.loss) == pytest.approx((0.0 + 9.0) / 2)


def test_policy_equal_to_reference_gives_log_two() -> None:
    x = t(-5.0, -7.0)
    assert float(dpo_loss(x, x, x, x).loss) == pytest.approx(math.log(2))


def test_gradient_pushes_chosen_up_and_rejected_down() -> None:
    c = torch.tensor([-2.0], requires_grad=True)
    r = torch.tensor([-2.0], requires_grad=True)
    dpo_loss(c, r, t(-2.0).float(), t(-2.0).float(), beta=0.1).loss.backward()
    assert c.grad is not None
    assert r.grad is not None
    assert float(c.grad) == pytest.approx(-0.05)  # -beta * sigma(0)
    assert float(r.grad) == pytest.approx(0.05)


def test_unknown_loss_type_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="sigmoid, ipo"):
        dpo_loss(t(0.0), t(0.0), t(0.0), t(0.0), loss_type="hinge")


def test_sequence_logps_counts_only_masked_targets() -> None:
    # vocab 2, uniform logits everywhere: each counted token has log-prob log(1/2)
    logits = torch.zeros(1, 4, 2)
    labels = torch.tensor([[0, 1, 0, 1]])
    mask = torch.tensor([[0, 0, 1, 1]])  # prompt of 2 tokens, completion of 2
    assert float(sequence_logps(logits, labels, mask)) == pytest.approx(2 * math.log(0.5))
    assert float(sequence_logps(logits, labels, mask, average=True)) == pytest.approx(math.log(0.5))
    logits[0, 1, 0] = 5.0  # position 1 predicts label[2] = 0 with high probability
    got = float(sequence_logps(logits, labels, mask))
    assert got == pytest.approx(math.log(math.exp(5) / (math.exp(5) + 1)) + math.log(0.5))
