"""`reward.execution.on_sandbox_error`: a sandbox failure is dropped from its group or scored
as a failed program, and never lets other sources' rewards stand in for the program."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import tiny_config

from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward import Outcome
from rlaif_tui.scoring.sources.execution import DROPPED, ExecutionSource, outcome_reward
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train.update import dropped, sequence_advantages

BROKEN = {"id": "x", "status": "sandbox_error", "message": "lane died"}


def test_fail_scores_a_sandbox_error_as_a_failed_program() -> None:
    cfg = ExecutionRewardConfig(on_sandbox_error="fail", runtime_error=-0.6)
    assert outcome_reward(BROKEN, cfg) == 0.0
    assert outcome_reward(BROKEN, ExecutionRewardConfig()) is None  # drop: no verdict


def test_drop_flags_the_sample() -> None:
    source = ExecutionSource(ExecutionRewardConfig(), executor=object())
    scores = source._scores(
        [Outcome(id="a", status="sandbox_error"), Outcome(id="b", status="failed")]
    )
    assert [DROPPED in s.flags for s in scores] == [True, False]
    source = ExecutionSource(ExecutionRewardConfig(on_sandbox_error="fail"), executor=object())
    assert DROPPED not in source._scores([Outcome(id="a", status="sandbox_error")])[0].flags


@pytest.mark.parametrize("algorithm", ["grpo", "rloo"])
def test_a_dropped_sample_leaves_its_groups_advantages(algorithm: str) -> None:
    cfg = tiny_config(algorithm=algorithm)
    k = cfg.rollout.group_size  # 4
    # Group 0: the last sample's sandbox failed; the judge gave it 1.0 (mixed reward 1.0).
    rewards = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    keep = np.array([True, True, True, False, True, True, True, True])
    adv = sequence_advantages(cfg, rewards, keep)
    assert adv[3] == 0.0
    kept_only = (
        adv_math.rloo(rewards[:3], 3) if algorithm == "rloo" else adv_math.grpo(rewards[:3], 3)
    )
    np.testing.assert_allclose(adv[:3], kept_only)
    np.testing.assert_allclose(adv[k:], sequence_advantages(cfg, rewards)[k:])  # untouched
    # With the failed sample counted as its mixed reward (the old free pass) group 0 differs.
    assert not np.allclose(sequence_advantages(cfg, rewards)[:3], kept_only)


def test_a_penalised_sample_is_never_dropped() -> None:
    flags = [[DROPPED], [DROPPED, "touches_gc", "penalised:touches_gc"], []]
    assert dropped(flags).tolist() == [True, False, False]
