"""The feedback runtime between scoring and the update: tripwires, penalties, re-mixing."""

from __future__ import annotations

from train_helpers import PROBLEMS

from rlaif_tui.config.live import Rating
from rlaif_tui.data import load_problems
from rlaif_tui.feedback.config import HumanConfig, TripwireConfig
from rlaif_tui.feedback.human import HumanFeedback
from rlaif_tui.feedback.penalties import PenaltyRules
from rlaif_tui.feedback.runtime import FeedbackRuntime
from rlaif_tui.train.score import Scored

PROBLEM = load_problems(PROBLEMS)[0]


def batch(completions: list[str], execution: list[float]) -> Scored:
    n = len(completions)
    return Scored(
        rewards=list(execution),
        per_source={"execution": list(execution)},
        outcomes=[{"passed": e == 1.0, "tests_passed": 1, "tests_total": 1} for e in execution],
        flags=[[] for _ in range(n)],
        wait_s=0.0,
        metrics={},
    )


def runtime() -> FeedbackRuntime:
    human = HumanFeedback(HumanConfig.model_validate({}), PenaltyRules(-1.0))
    return FeedbackRuntime(TripwireConfig(), human)


def test_confirmed_tripwire_is_penalised_from_the_next_step_on() -> None:
    rt = runtime()
    hack = "    import gc\n    return gc.get_objects()[0]\n"
    honest = "    return None\n"
    completions = [hack, honest]
    programs = [PROBLEM.prompt + c for c in completions]
    weights = {"execution": 1.0}
    first = rt.finalize(
        1,
        [PROBLEM],
        2,
        [PROBLEM.prompt],
        completions,
        programs,
        batch(completions, [1.0, 0.0]),
        weights,
    )
    assert "touches_gc" in first.flags[0]
    assert first.rewards == [1.0, 0.0]  # flagged, not yet punished
    assert first.metrics["tripwires/flagged"] == 0.5
    records = [
        {
            "id": f"s000001-g00-0{i}",
            "prompt": PROBLEM.prompt,
            "completion": c,
            "flags": first.flags[i],
        }
        for i, c in enumerate(completions)
    ]
    rt.after_step(records, 1)
    rt.add_ratings(
        [Rating(id="r1", sample_id="s000001-g00-00", score=1, confirm_flags=["touches_gc"])]
    )
    assert "touches_gc" in rt.penalties.rules
    second = rt.finalize(
        2,
        [PROBLEM],
        2,
        [PROBLEM.prompt],
        completions,
        programs,
        batch(completions, [1.0, 0.0]),
        weights,
    )
    assert second.rewards == [-1.0, 0.0]
    assert "penalised:touches_gc" in second.flags[0]
    assert second.metrics["tripwires/penalised"] == 1.0


def test_missing_source_values_renormalise_the_weights() -> None:
    rt = runtime()
    scored = batch(["a", "b"], [1.0, 0.0])
    scored.per_source["judge"] = [None, 0.5]
    out = rt.finalize(
        1,
        [PROBLEM],
        2,
        [PROBLEM.prompt],
        ["a", "b"],
        ["a", "b"],
        scored,
        {"execution": 1.0, "judge": 1.0},
    )
    assert out.rewards == [1.0, 0.25]
