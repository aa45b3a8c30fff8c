"""Train a reward model from preference and rating files (`rlaif rm train`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rlaif_tui.config.feedback import RewardModelConfig
from rlaif_tui.feedback.pairs import Pair, load_pairs
from rlaif_tui.feedback.ratings_import import ratings_to_pairs, read_ratings
from rlaif_tui.feedback.reward_model import (
    FitReport,
    RewardModel,
    split_pairs,
)
from rlaif_tui.progress import progress


def load_preference_files(paths: Sequence[str | Path]) -> list[Pair]:
    """Pairs from `.jsonl` preference files and `.csv` / `.json` rating files."""
    pairs: list[Pair] = []
    for path in map(Path, paths):
        if path.suffix.lower() == ".jsonl":
            pairs.extend(load_pairs(path))
        else:
            pairs.extend(ratings_to_pairs(read_ratings(path)))
    return pairs


def train_reward_model(
    base: str, files: Sequence[str | Path], out: str | Path, cfg: RewardModelConfig
) -> FitReport:
    pairs = load_preference_files(files)
    train, held = split_pairs(pairs, cfg.heldout_fraction, cfg.seed)
    model = (
        RewardModel.load(cfg.path)
        if cfg.path
        else RewardModel.from_backbone(base, cfg.max_length, cfg.seed)
    )
    total = cfg.epochs * math.ceil(len(train) / cfg.batch_size)
    with progress("reward model", total, unit="step") as bar:
        report = model.fit(
            train,
            held,
            lr=cfg.lr,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            on_step=lambda _step, loss: bar.advance(note=f"loss {loss:.3f}"),
        )
    model.save(out, report)
    return report
