"""Offline DPO raises the chosen-vs-rejected margin on held-out pairs (tiny model, CPU)."""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from feedback_helpers import one_thread, passing_pairs, save_tiny_lm
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlaif_tui.train.dpo import DPOConfig, fit_offline, reference_logps

__all__ = ["one_thread"]


def frozen(model: Any) -> Any:
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)

    @contextlib.contextmanager
    def reference() -> Iterator[Any]:
        yield ref

    return reference


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_dpo_raises_heldout_margin(tmp_path: Path, loss_type: str) -> None:
    path = save_tiny_lm(tmp_path / "m", seed=3)
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    cfg = DPOConfig(loss_type=loss_type, beta=0.1, epochs=2, batch_size=16, max_length=128)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    report = fit_offline(
        model, tok, frozen(model), passing_pairs(240, 1), passing_pairs(80, 2), cfg, opt
    )
    assert report.before is not None
    assert report.after is not None
    print(
        f"{loss_type}: held-out log-prob margin {report.before.logp_margin:+.3f} -> "
        f"{report.after.logp_margin:+.3f}, accuracy {report.before.accuracy:.2f} -> "
        f"{report.after.accuracy:.2f}, implicit reward margin -> {report.after.reward_margin:+.3f}"
    )
    assert report.before.reward_margin == pytest.approx(0.0, abs=1e-5)  # policy == reference
    assert report.after.logp_margin > report.before.logp_margin + 1.0
    assert report.after.reward_margin > 0
    assert report.after.accuracy > report.before.accuracy


@pytest.mark.usefixtures("one_thread")
def test_lora_reference_is_the_base_with_adapters_off(tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    path = save_tiny_lm(tmp_path / "m")
    base = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    pairs = passing_pairs(8, 5)
    cfg = DPOConfig(batch_size=8, max_length=128)
    want = reference_logps(frozen(base), tok, pairs, cfg)
    with warnings.catch_warnings():  # peft 0.21 reads a deprecated transformers attribute
        warnings.filterwarnings("ignore", ".*is_gradient_checkpointing.*", FutureWarning)
        model = get_peft_model(
            copy.deepcopy(base),
            LoraConfig(
                r=4,
                lora_alpha=8,
                target_modules=["c_attn"],
                fan_in_fan_out=True,
                init_lora_weights=False,
            ),
        )

    @contextlib.contextmanager
    def adapters_off() -> Iterator[Any]:
        with model.disable_adapter():
            yield model

    got = reference_logps(adapters_off, tok, pairs, cfg)
    torch.testing.assert_close(got, want)
    with torch.no_grad():
        live = reference_logps(lambda: contextlib.nullcontext(model), tok, pairs, cfg)
    assert not torch.allclose(live[0], want[0])  # the adapters do change the policy
