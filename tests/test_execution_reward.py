"""The execution reward source against the real sandbox executor, and reward mixing."""

from __future__ import annotations

import pytest
from train_helpers import PROBLEMS

from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.data import load_problems
from rlaif_tui.scoring.mix import mix
from rlaif_tui.scoring.sources import ScoreRequest


def test_mix_renormalises_over_available_sources() -> None:
    rewards, flags = mix(
        {"execution": [1.0, 0.0, None], "judge": [0.5, None, None]},
        {"execution": 1.0, "judge": 0.5},
    )
    assert rewards == pytest.approx([(1.0 + 0.25) / 1.5, 0.0, 0.0])
    assert flags == [[], [], ["no_reward"]]
    with pytest.raises(ValueError, match="different numbers of samples"):
        mix({"a": [1.0], "b": [1.0, 2.0]}, {"a": 1.0, "b": 1.0})


def test_execution_source_scores_programs_in_the_sandbox() -> None:
    from rlaif_tui.scoring.sources.execution import ExecutionSource

    problem = load_problems(PROBLEMS)[0]
    assert problem.reference is not None
    cfg = ExecutionRewardConfig(compile_error=-1.0, runtime_error=-0.6, workers=1)
    source = ExecutionSource(cfg)
    try:
        completions = [
            problem.reference,
            "    return None\n",
            "    return (\n",
            "    raise ValueError()\n",
        ]
        requests = [
            ScoreRequest(f"t{i}", problem, problem.prompt, c, problem.prompt + c)
            for i, c in enumerate(completions)
        ]
        scores = source.submit(requests).result(timeout=120)
        again = source.submit([*requests, requests[0]]).result(timeout=120)
    finally:
        source.close()
    assert [s.value for s in scores] == [1.0, 0.0, -1.0, -0.6]
    assert scores[0].outcome is not None
    assert scores[0].outcome["passed"] is True
    # The same programs are not run again: outcomes come from the reward cache.
    assert [s.value for s in again] == [1.0, 0.0, -1.0, -0.6, 1.0]
    assert all(s.outcome is not None and s.outcome["cached"] for s in again)
