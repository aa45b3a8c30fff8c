"""The Bradley-Terry reward model learns a synthetic preference on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from feedback_helpers import one_thread, passing_pairs, save_tiny_lm

from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.reward_model import RewardModel, bt_loss, split_pairs

__all__ = ["one_thread"]  # a fixture, imported to be used


def test_bt_loss_by_hand() -> None:
    loss = bt_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]))
    want = (torch.log1p(torch.exp(torch.tensor(-2.0))) + torch.log(torch.tensor(2.0))) / 2
    assert float(loss) == pytest.approx(float(want))


def test_split_keeps_a_prompt_on_one_side() -> None:
    pairs = [Pair(f"p{i % 10}", f"c{i}", f"r{i}") for i in range(50)]
    train, held = split_pairs(pairs, 0.3, seed=1)
    assert len({p.prompt for p in held}) == 3
    assert not {p.prompt for p in train} & {p.prompt for p in held}


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_learns_to_prefer_passing_code(tmp_path: Path) -> None:
    base = save_tiny_lm(tmp_path / "base")
    rm = RewardModel.from_backbone(str(base), max_length=128, seed=0)
    train = passing_pairs(600, seed=1)
    heldout = passing_pairs(200, seed=2)  # other function and argument names
    before = rm.pair_accuracy(heldout)
    report = rm.fit(train, heldout, lr=2e-3, epochs=6, batch_size=32, seed=0)
    print(f"reward model held-out pair accuracy: {before:.3f} -> {report.heldout_accuracy:.3f}")
    assert report.heldout_accuracy is not None
    assert report.heldout_accuracy > 0.9
    saved = rm.save(tmp_path / "rm", report)
    again = RewardModel.load(saved)
    assert again.pair_accuracy(heldout[:40]) == rm.pair_accuracy(heldout[:40])


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_rm_train_command_reads_csv_ratings(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rlaif_tui.cli.main import app

    base = save_tiny_lm(tmp_path / "base")
    lines = ["prompt,response,rating"]
    for p in passing_pairs(60, 4):
        prompt = p.prompt.replace('"', '""')
        lines.append(f'"{prompt}","{p.chosen}",5')
        lines.append(f'"{prompt}","{p.rejected}",1')
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "rm",
            "train",
            str(tmp_path / "r.csv"),
            "--base",
            str(base),
            "--out",
            str(tmp_path / "rm"),
            "--epochs",
            "1",
            "--max-length",
            "128",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out pair accuracy" in result.output
    assert (tmp_path / "rm" / "reward_model.json").exists()


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_reward_source_refits_after_enough_new_pairs(tmp_path: Path) -> None:
    from rlaif_tui.config.feedback import RewardModelConfig
    from rlaif_tui.data import load_problems
    from rlaif_tui.scoring.sources import ScoreRequest
    from rlaif_tui.scoring.sources.rm import RewardModelSource

    rm = RewardModel.from_backbone(str(save_tiny_lm(tmp_path / "b")), max_length=96)
    cfg = RewardModelConfig(refresh_every=20, epochs=1, batch_size=10, heldout_fraction=0.25)
    source = RewardModelSource(rm, cfg)
    try:
        assert not source.refresh(passing_pairs(10, 1))
        assert source.refresh(passing_pairs(10, 2))  # 20 new pairs: refit
        m = source.metrics()
        assert m["rm/refreshes"] == 1
        assert m["rm/pairs"] == 20
        assert "rm/heldout_accuracy" in m
        problem = load_problems(Path(__file__).parent.parent / "data/quickstart/problems.jsonl")[0]
        req = ScoreRequest("s1", problem, problem.prompt, "    return 1\n", "x")
        (score,) = source.submit([req]).result(timeout=60)
        assert score.value is not None
        assert 0.0 < score.value < 1.0
    finally:
        source.close()
