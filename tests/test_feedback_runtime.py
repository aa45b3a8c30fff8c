"""The feedback runtime between scoring and the update: tripwires, penalties, re-mixing."""

from __future__ import annotations

from train_helpers import PROBLEMS

from rlaif_tui.api.models import RatingIn
from rlaif_tui.api.samples import Sample
from rlaif_tui.config.feedback import HumanConfig, TripwireConfig
from rlaif_tui.data import load_problems
from rlaif_tui.feedback.human import HumanFeedback
from rlaif_tui.feedback.penalties import PenaltyRules
from rlaif_tui.scoring.pending import Scored
from rlaif_tui.scoring.records import sample_records
from rlaif_tui.scoring.stage import ScoringStage

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


def records_of(
    step: int, completions: list[str], programs: list[str], scored: Scored
) -> list[Sample]:
    n = len(completions)
    built = sample_records(
        step, [PROBLEM], n, [PROBLEM.prompt], completions, programs, scored, [0.0] * n, ["stop"] * n
    )
    return [r.wire() for r in built]


def finalize(
    rt: ScoringStage,
    step: int,
    completions: list[str],
    programs: list[str],
    scored: Scored,
    weights: dict[str, float],
) -> Scored:
    return rt.finalize(
        [PROBLEM],
        len(completions),
        programs,
        scored,
        weights,
        lambda s: records_of(step, completions, programs, s),
    )


def runtime() -> ScoringStage:
    human = HumanFeedback(HumanConfig.model_validate({}), PenaltyRules(-1.0))
    return ScoringStage(TripwireConfig(), human)


def test_confirmed_tripwire_is_penalised_from_the_next_step_on() -> None:
    rt = runtime()
    hack = "    import gc\n    return gc.get_objects()[0]\n"
    honest = "    return None\n"
    completions = [hack, honest]
    programs = [PROBLEM.prompt + c for c in completions]
    weights = {"execution": 1.0}
    first = finalize(rt, 1, completions, programs, batch(completions, [1.0, 0.0]), weights)
    assert "touches_gc" in first.flags[0]
    assert first.rewards == [1.0, 0.0]  # flagged, not yet punished
    assert first.metrics["tripwires/flagged"] == 0.5
    rt.after_step(records_of(1, completions, programs, first), 1)
    rt.add_ratings(
        [RatingIn(id="rating-1", sample_id="s000001-g00-00", score=1, confirm_flags=["touches_gc"])]
    )
    assert "touches_gc" in rt.penalties.rules
    second = finalize(rt, 2, completions, programs, batch(completions, [1.0, 0.0]), weights)
    assert second.rewards == [-1.0, 0.0]
    assert "penalised:touches_gc" in second.flags[0]
    assert second.metrics["tripwires/penalised"] == 1.0


def test_missing_source_values_renormalise_the_weights() -> None:
    rt = runtime()
    scored = batch(["a", "b"], [1.0, 0.0])
    scored.per_source["judge"] = [None, 0.5]
    out = finalize(rt, 1, ["a", "b"], ["a", "b"], scored, {"execution": 1.0, "judge": 1.0})
    assert out.rewards == [1.0, 0.25]
