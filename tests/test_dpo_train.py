"""`rlaif train --algorithm dpo`: offline from a preference file, online from groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedback_helpers import one_thread, passing_pairs
from train_helpers import LetterShare, tiny_config
from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.config.feedback import DPOConfig
from rlaif_tui.feedback.pairs import dump_pairs
from rlaif_tui.train.dpo_online import group_pairs
from rlaif_tui.train.trainer import Trainer

__all__ = ["one_thread"]
REPO = Path(__file__).resolve().parent.parent


def test_group_pairs_best_against_worst() -> None:
    cfg = DPOConfig(online_pairs=2, online_margin=0.5)
    got = group_pairs(
        ["P", "Q"],
        ["a", "b", "c", "d", "e", "f", "g", "h"],
        [0.0, 1.0, 0.2, 0.9, 0.5, 0.5, 0.5, 0.6],
        4,
        cfg,
    )
    assert [(p.prompt, p.chosen, p.rejected) for p in got] == [("P", "b", "a"), ("P", "d", "c")]


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_offline_dpo_from_the_command_line(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    dump_pairs(passing_pairs(96, 1) + passing_pairs(32, 2), pairs)
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--config",
            str(REPO / "configs" / "smoke.yaml"),
            "--algorithm",
            "dpo",
            "--set",
            f"dpo.pairs={pairs}",
            "--set",
            "dpo.epochs=2",
            "--set",
            "dpo.batch_size=16",
            "--set",
            "dpo.heldout_fraction=0.25",
            "--set",
            "optim.lr=3e-3",
            "--set",
            "model.tiny.n_positions=256",
            "--run-dir",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out log-prob margin" in result.output
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["dpo/heldout_margin_after"] > last["dpo/heldout_margin_before"]
    assert (tmp_path / "run" / "checkpoints" / "latest").exists()


@pytest.mark.slow
def test_online_dpo_steps_on_group_pairs(tmp_path: Path) -> None:
    cfg = tiny_config(algorithm="dpo", dpo={"online_margin": 0.01, "online_pairs": 1})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    try:
        before = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters()}
        result = trainer.step()
        assert result.metrics["dpo/pairs"] >= 1
        assert "loss/policy" in result.metrics
        moved = [
            n for n, p in trainer.policy.model.named_parameters() if not p.detach().equal(before[n])
        ]
        assert moved
    finally:
        trainer.close()
