"""Learning happens: parameters move, the loss is what the formula says, LoRA and guards."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_helpers import LetterShare, tiny_config

from rlaif_tui.models import checkpoint as ckpt
from rlaif_tui.models.errors import NonFiniteError
from rlaif_tui.models.tiny import TinySpec, save_tiny
from rlaif_tui.train.trainer import Trainer


def trainable(trainer: Trainer) -> dict[str, torch.Tensor]:
    named = dict(trainer.policy.model.named_parameters())
    if trainer.policy.value_head is not None:
        named |= {f"value_head.{n}": p for n, p in trainer.policy.value_head.named_parameters()}
    return {n: p.detach().clone() for n, p in named.items() if p.requires_grad}


@pytest.mark.parametrize("algorithm", ["grpo", "rloo", "ppo"])
def test_every_trainable_parameter_moves(tmp_path: Path, algorithm: str) -> None:
    cfg = tiny_config(algorithm=algorithm)
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    before = trainable(trainer)
    if algorithm == "ppo":
        assert any(n.startswith("value_head.") for n in before)
    for _ in range(2):
        trainer.step()
    after = trainable(trainer)
    trainer.close()
    stuck = [n for n in before if torch.equal(before[n], after[n])]
    assert not stuck, f"{algorithm}: parameters did not move: {stuck}"


def test_first_step_loss_matches_hand_computation(tmp_path: Path) -> None:
    # Step 1: the policy equals the reference (k3 = 0) and the ratio is 1, so the DAPO loss is
    # -sum_i A_i * len_i / sum_i len_i with A the group-normalised rewards.
    cfg = tiny_config(run={"steps": 2, "tensorboard": True})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    result = trainer.step()
    trainer.close()
    k = cfg.rollout.group_size
    rewards = torch.tensor([s["reward"] for s in result.samples], dtype=torch.float64)
    groups = rewards.view(-1, k)
    adv = (groups - groups.mean(1, keepdim=True)) / (groups.std(1, keepdim=True) + 1e-4)
    lengths = torch.tensor([s["outcome"] is None for s in result.samples], dtype=torch.float64)
    lengths[:] = result.metrics["completion/mean_tokens"]  # no stops: every row is full length
    expected = float(-(adv.flatten() * lengths).sum() / lengths.sum())
    assert [s["advantage"] for s in result.samples] == pytest.approx(adv.flatten().tolist())
    assert result.metrics["loss/total"] == pytest.approx(expected, abs=1e-6)
    assert result.metrics["kl/mean"] == pytest.approx(0.0, abs=1e-6)
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))  # TensorBoard too


def test_lora_moves_only_adapters_and_reference_is_the_base(tmp_path: Path) -> None:
    base_dir = save_tiny(
        TinySpec(n_embd=32, n_layer=2, n_head=2, n_positions=160, dropout=0.0),
        tmp_path / "local-model",
    )
    cfg = tiny_config(
        model={
            "source": "hf",
            "name": str(base_dir),
            "device": "cpu",
            "lora": {
                "enabled": True,
                "r": 4,
                "alpha": 8,
                "dropout": 0.0,
                "target_modules": ["c_attn", "c_proj"],
            },
        },
        optim={"lr": 5e-2, "schedule": "constant"},
    )
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    model = trainer.policy.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for _ in range(2):
        result = trainer.step()
    for name, p in model.named_parameters():
        moved = not torch.equal(before[name], p)
        assert moved == ("lora_" in name), f"{name}: moved={moved}"
    # The reference (adapters disabled) computes exactly what the saved base model computes.
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
    ids = torch.tensor([[5, 70, 80, 90, 100, 4, 60]])
    with torch.no_grad(), trainer.policy.reference() as ref:
        ref_logits = ref(input_ids=ids).logits
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits
        policy_logits = model(input_ids=ids).logits
    assert torch.allclose(ref_logits, base_logits, atol=1e-6)
    assert not torch.allclose(policy_logits, base_logits, atol=1e-6)
    assert result.metrics["kl/mean"] > 0
    trainer.close()


def test_nan_stops_the_step_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = tiny_config(run={"steps": 3, "checkpoint_every": 1})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    trainer.step()
    good = ckpt.latest_checkpoint(trainer.run.checkpoints)
    assert good is not None
    assert good.name == "step-000001"
    with torch.no_grad():
        next(trainer.policy.model.parameters()).fill_(float("nan"))
    with pytest.raises(NonFiniteError, match="NaN or inf"):
        trainer.step()
    assert trainer.step_count == 1
    assert ckpt.latest_checkpoint(trainer.run.checkpoints) == good
    trainer.close()
    from safetensors.torch import load_file

    weights = load_file(str(good / "model.safetensors"))
    assert all(bool(torch.isfinite(t).all()) for t in weights.values())


def test_dynamic_sampling_replaces_zero_variance_groups(tmp_path: Path) -> None:
    from train_helpers import ConstantOnSome

    def zero_share(dynamic: bool) -> float:
        cfg = tiny_config(
            run={"steps": 1},
            rollout={"prompts_per_step": 4},
            grpo={"dynamic_sampling": dynamic, "max_resample_rounds": 3},
        )
        trainer = Trainer.from_config(cfg, tmp_path / f"run-{dynamic}", sources=[ConstantOnSome()])
        result = trainer.step()
        trainer.close()
        assert len(result.samples) == 4 * cfg.rollout.group_size
        return result.metrics["groups/zero_variance"]

    without = zero_share(False)
    assert without > 0
    assert zero_share(True) < without


def test_chunked_sampling_scores_each_chunk_and_keeps_order(tmp_path: Path) -> None:
    cfg = tiny_config(run={"steps": 1}, rollout={"prompts_per_step": 3, "chunk_groups": 1})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    result = trainer.step()
    trainer.close()
    assert len(result.samples) == 3 * cfg.rollout.group_size
    assert len({s["problem_id"] for s in result.samples}) == 3
    for s in result.samples:  # each reward belongs to its own completion after the merge
        c = s["completion"]
        assert s["reward"] == pytest.approx(sum(ch.isalpha() for ch in c) / max(1, len(c)))
