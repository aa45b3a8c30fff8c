"""`run.control` / `rlaif train --control`: the matched lr-0 twin in RUN/control, and the report
that pairs the two."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_helpers import LetterShare, tiny_config
from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.evaluation.paired import mean_ci, pair
from rlaif_tui.train.trainer import Trainer

REPO = Path(__file__).resolve().parent.parent


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_control_twin_shares_seeds_and_prompts_but_never_moves(tmp_path: Path) -> None:
    cfg = tiny_config(
        run={"steps": 3, "control": True},
        curriculum={"enabled": True},  # reacts to rewards: the twin must still follow
    )
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    assert trainer.twin is not None
    twin_before = {n: p.detach().clone() for n, p in trainer.twin.policy.model.named_parameters()}
    first = trainer.step()
    for _ in range(2):
        result = trainer.step()
    twin_after = dict(trainer.twin.policy.model.named_parameters())
    run_after = dict(trainer.policy.model.named_parameters())
    moved = [n for n, p in run_after.items() if not torch.equal(p, twin_after[n])]
    trainer.close()
    assert all(torch.equal(twin_before[n], twin_after[n]) for n in twin_before)
    assert moved, "the run's weights should differ from the lr-0 control's"
    assert "control/reward/mean" in result.metrics
    run, control = tmp_path / "run", tmp_path / "run" / "control"
    assert [r["step"] for r in rows(control / "metrics.jsonl")] == [1, 2, 3]
    assert all(r["lr"] == 0.0 for r in rows(control / "metrics.jsonl"))
    ours, theirs = rows(run / "samples.jsonl"), rows(control / "samples.jsonl")
    # Same prompts at every step; at step 1 (same weights, same seeds) the same completions.
    assert [(s["step"], s["problem_id"]) for s in ours] == [
        (s["step"], s["problem_id"]) for s in theirs
    ]
    step1 = [s["completion"] for s in ours if s["step"] == 1]
    assert step1 == [s["completion"] for s in theirs if s["step"] == 1]
    assert first.metrics["control/reward/mean"] == pytest.approx(first.metrics["reward/mean"])
    # Saved together: both resume from step 3.
    assert (control / "checkpoints" / "latest").exists()
    resumed = Trainer.from_config(cfg, run, resume=True, sources=[LetterShare()])
    try:
        assert resumed.step_count == 3
        assert resumed.twin is not None
        assert resumed.twin.step_count == 3
    finally:
        resumed.close()


def test_report_overlays_the_control_and_pairs_per_step(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", "--config", str(REPO / "configs" / "smoke.yaml"), "--steps", "3"]
    args += ["--run-dir", str(run), "--control"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    paired = pair(run)
    assert paired is not None
    assert paired.steps == [1, 2, 3]
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert "pass/rate minus control, second half" in result.output
    assert (run / "report" / "control.png").read_bytes().startswith(b"\x89PNG")
    assert "run vs control" in (run / "report" / "report.html").read_text()


def test_mean_ci_by_hand() -> None:
    ci = mean_ci([0.1, 0.3])
    # mean 0.2, sd sqrt(0.02), half-width 1.96 * sd / sqrt(2) = 0.196
    assert ci.mean == pytest.approx(0.2)
    assert ci.half_width == pytest.approx(0.196)
    assert mean_ci([0.5]).half_width == 0.0
