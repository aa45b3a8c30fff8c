"""The learned logit scale (`models.sharpness`, `optim.sharpness_lr`): it scales the logits
exactly, folds into the final norm so checkpoints stay plain models, follows the reward's
gradient in the right direction, survives a resume, and never runs in an lr-0 control."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_helpers import LetterShare, tiny_config

from rlaif_tui.models.sharpness import Sharpness, SharpnessError
from rlaif_tui.models.tiny import TinySpec, build_tiny
from rlaif_tui.train.trainer import Trainer

SPEC = TinySpec(n_embd=16, n_layer=1, n_head=2, n_positions=32)


def _logits(model: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def test_the_scale_multiplies_the_logits_and_folds_into_the_final_norm() -> None:
    torch.manual_seed(0)
    model, _ = build_tiny(SPEC)
    model.eval()  # no dropout: the same function twice
    with torch.no_grad():  # a non-trivial final norm (the init is weight 1, bias 0)
        model.transformer.ln_f.bias.normal_()
    ids = torch.randint(0, 200, (2, 10))
    keys = set(model.state_dict())
    plain = _logits(model, ids)
    sharp = Sharpness(model)
    assert torch.equal(_logits(model, ids), plain)  # g = 0: the identity
    with torch.no_grad():
        sharp.log_scale.fill_(0.5)
    scaled = _logits(model, ids)
    torch.testing.assert_close(scaled, plain * torch.exp(torch.tensor(0.5)))
    sharp.fold()
    assert float(sharp.log_scale.detach()) == 0.0
    assert sharp.total == pytest.approx(float(torch.exp(torch.tensor(0.5))))
    torch.testing.assert_close(_logits(model, ids), scaled)  # same function, now in ln_f
    assert set(model.state_dict()) == keys  # a checkpoint holds no extra tensor


def test_reinforcing_the_likelier_completion_asks_for_a_sharper_policy() -> None:
    """The sign of the scale's gradient: with the model's own greedy tokens rewarded and
    unlikely tokens punished, descending the loss raises the scale (and the reverse lowers it)."""
    torch.manual_seed(0)
    model, _ = build_tiny(SPEC)
    model.eval()
    sharp = Sharpness(model)
    ids = torch.randint(0, 200, (4, 12))
    logits = model(input_ids=ids).logits
    logp = torch.log_softmax(logits, dim=-1)
    greedy = logp.max(-1).values
    unlikely = logp.min(-1).values
    for sign, expected in ((1.0, "sharper"), (-1.0, "flatter")):
        sharp.log_scale.grad = None
        loss = -sign * (greedy.mean() - unlikely.mean())
        loss.backward(retain_graph=True)
        grad = float(sharp.log_scale.grad)  # type: ignore[arg-type]
        assert (grad < 0) == (expected == "sharper"), (expected, grad)


def test_the_trainer_learns_the_scale_reports_it_and_resumes_it(tmp_path: Path) -> None:
    cfg = tiny_config(optim={"lr": 1e-3, "schedule": "constant", "sharpness_lr": 0.05})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    assert trainer.sharpness is not None
    names = [g["name"] for g in trainer.optimizer.param_groups]
    assert names == ["all", "sharpness"]
    metrics = trainer.step().metrics
    assert metrics["policy/sharpness"] != 1.0
    assert float(trainer.sharpness.log_scale.detach()) == 0.0  # folded after the step
    total = trainer.sharpness.total
    trainer.save_checkpoint()
    trainer.close()
    again = Trainer.from_config(cfg, tmp_path / "run", resume=True, sources=[LetterShare()])
    assert again.sharpness is not None
    assert again.sharpness.total == pytest.approx(total)
    assert again.step().metrics["policy/sharpness"] != pytest.approx(total)  # still learning
    again.close()


def test_an_lr_zero_run_never_sharpens(tmp_path: Path) -> None:
    cfg = tiny_config(optim={"lr": 0.0, "schedule": "constant", "sharpness_lr": 0.05})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    before = trainer.policy.model.transformer.ln_f.weight.detach().clone()
    metrics = trainer.step().metrics
    trainer.close()
    assert trainer.sharpness is None
    assert "policy/sharpness" not in metrics
    assert torch.equal(trainer.policy.model.transformer.ln_f.weight, before)


def test_a_frozen_final_norm_is_refused_with_the_field_named() -> None:
    model, _ = build_tiny(SPEC)
    model.transformer.ln_f.weight.requires_grad_(False)
    with pytest.raises(SharpnessError, match=r"optim\.sharpness_lr: the final norm is frozen"):
        Sharpness(model)
