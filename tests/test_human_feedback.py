"""Ratings before their group's update change its reward; later ones become pairs."""

from __future__ import annotations

import threading
import time

from rlaif_tui.api.models import RatingIn
from rlaif_tui.config.feedback import HumanConfig
from rlaif_tui.feedback.human import HumanFeedback, score_value
from rlaif_tui.feedback.pairs import Pair


def rec(sid: str, completion: str, flags: list[str] | None = None) -> dict[str, object]:
    return {
        "id": sid,
        "group_id": "g",
        "prompt": "P",
        "completion": completion,
        "flags": flags or [],
    }


def test_early_scores_set_the_human_value() -> None:
    hf = HumanFeedback()
    batch = [rec("a", "good"), rec("b", "bad")]
    hf.open_batch(batch)
    assert hf.add(
        [
            RatingIn(id="rating-1", sample_id="a", score=5),
            RatingIn(id="rating-2", sample_id="a", score=4),
        ]
    ) == ["early", "early"]
    assert hf.value("a") == score_value(4)  # mean 4.5 rounds to 4
    assert hf.value("b") is None
    hf.close_batch(batch, step=1)
    assert hf.value("a") is None  # no longer pending
    assert hf.add([RatingIn(id="rating-3", sample_id="b", score=1)]) == ["late"]
    assert hf.drain_pairs() == [Pair("P", "good", "bad")]  # early scores count toward pairs
    assert hf.drain_pairs() == []


def test_preferences_duplicates_and_unknown_ids() -> None:
    hf = HumanFeedback()
    hf.close_batch([rec("a", "x"), rec("b", "y")], step=1)
    b_over_a = RatingIn(id="rating-1", chosen_id="b", rejected_id="a")
    a_over_b = RatingIn(id="rating-2", chosen_id="a", rejected_id="b")
    assert hf.add([b_over_a, a_over_b, b_over_a]) == ["late", "late", "duplicate"]
    assert hf.drain_pairs() == [Pair("P", "y", "x"), Pair("P", "x", "y")]
    assert hf.add([RatingIn(id="rating-4", sample_id="zz", score=3)]) == ["unknown"]
    m = hf.metrics()
    assert (m["human/late"], m["human/duplicate"], m["human/unknown"]) == (2.0, 1.0, 1.0)


def test_a_confirming_rating_makes_a_penalty_rule() -> None:
    hf = HumanFeedback()
    hf.close_batch([rec("a", "import gc", ["touches_gc"])], step=4)
    hf.add([RatingIn(id="rating-1", sample_id="a", score=1, comment="hack: walks gc")])
    assert list(hf.penalties.rules) == ["touches_gc"]
    assert hf.penalties.rules["touches_gc"].step == 4
    restored = HumanFeedback()
    restored.load_state_dict(hf.state_dict())
    assert restored.penalties.apply(1.0, ["touches_gc"])[0] == -1.0
    assert restored.add([RatingIn(id="rating-1", sample_id="a", score=1)]) == ["duplicate"]


def hold_feedback(hold_s: float, rater_hold_s: float) -> HumanFeedback:
    return HumanFeedback(HumanConfig(hold_s=hold_s, rater_hold_s=rater_hold_s))


def rate_later(hf: HumanFeedback, delay_s: float, rating: RatingIn) -> threading.Thread:
    def run() -> None:
        time.sleep(delay_s)
        hf.add([rating])

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_nobody_rating_holds_only_hold_s() -> None:
    hf = hold_feedback(0.2, 30.0)
    hf.open_batch([rec("a", "x")])
    waited = hf.hold()
    assert 0.2 <= waited < 5.0  # not the 30 s kept for someone who is rating


def test_while_someone_rates_the_batch_waits_for_a_score_then_hold_s() -> None:
    hf = hold_feedback(0.2, 30.0)
    hf.open_batch([rec("old", "x")])
    hf.close_batch([rec("old", "x")], step=1)
    assert hf.add([RatingIn(id="rating-old", sample_id="old", score=2)]) == ["late"]  # rating now
    hf.open_batch([rec("a", "good"), rec("b", "bad")])
    thread = rate_later(hf, 1.0, RatingIn(id="rating-a", sample_id="a", score=5))
    waited = hf.hold()
    thread.join()
    assert waited >= 1.2  # past hold_s: it waited for the score, then hold_s after it
    assert waited < 25.0  # released by the score, not by rater_hold_s
    assert hf.value("a") == 1.0  # the score counts in this batch's update


def test_a_rater_who_stopped_costs_at_most_rater_hold_s() -> None:
    hf = hold_feedback(0.1, 0.6)
    assert hf.add([RatingIn(id="rating-x", sample_id="gone", score=3)]) == ["unknown"]
    hf.open_batch([rec("a", "x")])
    assert hf.hold() >= 0.6  # someone rated just now: the batch waits the whole window
    hf.last_rating_at = time.monotonic() - 5.0  # the last rating is older than the window
    assert hf.hold() < 0.6
