"""Small real pieces for training tests: configs built in code and a test reward source."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.scoring.sources import ScoreRequest, SourceBase, SourceScore

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = REPO / "data" / "quickstart" / "problems.jsonl"


class LetterShare(SourceBase):
    """Reward = share of ASCII letters in the completion: varies between samples of a random
    model, so every group has signal (the execution reward of a random model is all zeros)."""

    name = "syntax"  # stands in for a configured source name

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        fut: Future[list[SourceScore]] = Future()
        fut.set_result(
            [
                SourceScore(sum(c.isalpha() for c in r.completion) / max(1, len(r.completion)))
                for r in requests
            ]
        )
        return fut

    def close(self) -> None:
        pass


def tiny_config(**sections: Any) -> TrainConfig:
    base: dict[str, Any] = {
        "run": {"steps": 2, "checkpoint_every": 0, "tensorboard": False, "seed": 0},
        "model": {
            "source": "tiny",
            "name": "test-tiny",
            "device": "cpu",
            "tiny": {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 160},
        },
        "data": {"problems": str(PROBLEMS), "limit": 12},
        "rollout": {"prompts_per_step": 2, "group_size": 4, "max_new_tokens": 8, "stop": []},
        "kl": {"coef": 0.04},
        "optim": {"lr": 1e-2, "schedule": "constant"},
        "reward": {"weights": {"syntax": 1.0}},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return TrainConfig.model_validate(base)


class ConstantOnSome(LetterShare):
    """Like LetterShare, but every sample of problems whose number is even gets 0.5 (a
    zero-variance group, as an all-pass or all-fail group would be)."""

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        varied = super().submit(requests).result()
        fut: Future[list[SourceScore]] = Future()
        fut.set_result(
            [
                SourceScore(0.5) if int(r.problem.id.rsplit("/", 1)[1]) % 2 == 0 else v
                for r, v in zip(requests, varied, strict=True)
            ]
        )
        return fut
