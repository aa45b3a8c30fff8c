"""Evaluation inside training: held-out pass@k every N steps into metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from train_helpers import tiny_config

from rlaif_tui.config.train import EvalConfig
from rlaif_tui.train.trainer import Trainer


def _metrics(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_eval_every_n_steps_logs_heldout_pass_at_k(tmp_path: Path) -> None:
    cfg = tiny_config(
        run={"steps": 3, "checkpoint_every": 0, "tensorboard": False, "seed": 0},
        reward={"weights": {"execution": 1.0}},
        eval={"every": 2, "samples": 3, "ks": [1, 3], "limit": 4, "max_new_tokens": 12},
    )
    trainer = Trainer.from_config(cfg, tmp_path / "run")
    try:
        assert [p.split for p in trainer.heldout] == ["heldout"] * 4
        while not trainer.done:
            trainer.step()
    finally:
        trainer.close()
    rows = _metrics(tmp_path / "run")
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert "eval/pass@1" not in rows[0]  # step 1: not due
    for row in rows[1:]:  # step 2 (every 2) and step 3 (the last)
        assert 0.0 <= row["eval/pass@1"] <= row["eval/pass@3"] <= 1.0
        assert row["eval/problems"] == 4
        assert row["eval/time_s"] > 0


def test_eval_config_rejects_k_above_samples() -> None:
    with pytest.raises(ValidationError, match=r"ks \[8\] need 1 <= k <= samples=4"):
        EvalConfig(every=1, samples=4, ks=[1, 8])


def test_eval_without_heldout_problems_says_how_to_fix(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "data" / "quickstart" / "problems.jsonl"
    lines = [line for line in src.read_text().splitlines() if '"split": "train"' in line][:4]
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    cfg = tiny_config(
        eval={"every": 1},
        data={"heldout_split": "heldout", "problems": str(tmp_path / "p.jsonl")},
    )
    with pytest.raises(ValueError, match="no problems in split 'heldout' to evaluate on"):
        Trainer.from_config(cfg, tmp_path / "run")
