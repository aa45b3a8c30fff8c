"""Learned reward: a Bradley-Terry reward model's sigma(r) in (0, 1) (`feedback.reward_model`).

Scoring runs on a worker thread while the trainer computes its forwards. `refresh(pairs)` adds
preference pairs (late human ratings, repairs, teacher pairs); after `refresh_every` new ones
the model is trained again on everything so far, between steps, and `rm/heldout_accuracy` is
reported on a prompt-disjoint held-out split.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from rlaif_tui.config.feedback import RewardModelConfig
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.reward_model import RewardModel, split_pairs, to_unit
from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore


class RewardModelSource(SourceBase):
    name = "rm"

    def __init__(
        self, model: RewardModel, cfg: RewardModelConfig, pairs: Sequence[Pair] = ()
    ) -> None:
        self.model = model
        self.cfg = cfg
        self.pairs: list[Pair] = list(pairs)
        self.new_since_fit = 0
        self._metrics: dict[str, float] = {}
        self._lock = threading.Lock()  # scoring and refitting never overlap
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rlaif-rm")

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        prompts = [r.prompt for r in requests]
        completions = [r.completion for r in requests]
        return self._pool.submit(self._score, prompts, completions)

    def _score(self, prompts: list[str], completions: list[str]) -> list[SourceScore]:
        with self._lock:
            raw = self.model.score(prompts, completions)
        return [SourceScore(to_unit(r)) for r in raw]

    def fit(self) -> dict[str, float]:
        """Train on all pairs so far (prompt-disjoint held-out split); returns `rm/...`."""
        train, held = split_pairs(self.pairs, self.cfg.heldout_fraction, self.cfg.seed)
        if not train:
            return {}
        with self._lock:
            report = self.model.fit(
                train,
                held,
                lr=self.cfg.lr,
                epochs=self.cfg.epochs,
                batch_size=self.cfg.batch_size,
                seed=self.cfg.seed,
            )
        self.new_since_fit = 0
        out = report.metrics("rm")
        self._metrics.update(out)
        return out

    def refresh(self, new_pairs: Sequence[Pair]) -> bool:
        """Add pairs; retrain when `refresh_every` new ones have come in. True if it retrained."""
        self.pairs.extend(new_pairs)
        self.new_since_fit += len(new_pairs)
        if self.cfg.refresh_every and self.new_since_fit >= self.cfg.refresh_every:
            self.fit()
            self._metrics["rm/refreshes"] = self._metrics.get("rm/refreshes", 0.0) + 1
            return True
        return False

    def metrics(self) -> dict[str, float]:
        out = dict(self._metrics)
        out["rm/pairs"] = float(len(self.pairs))
        self._metrics.pop("rm/refreshes", None)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True)
