"""Which sample to rate first, filters of the samples browser, and the run model."""

from __future__ import annotations

from typing import Any

import pytest

from rlaif_tui.api import Event
from rlaif_tui.tui.filters import FilterError, SampleFilter, select, short_problem_id
from rlaif_tui.tui.priority import ab_partner, rating_queue
from rlaif_tui.tui.run_model import RunModel


def rec(
    sid: str,
    group: str,
    reward: float,
    *,
    step: int = 1,
    tests: float | None = None,
    judge: float | None = None,
    flags: list[str] | None = None,
    outcome_flags: list[str] | None = None,
    status: str = "passed",
    problem: str = "p",
    program: str | None = None,
) -> dict[str, Any]:
    return {
        "id": sid,
        "program": f"return {sid!r}" if program is None else program,
        "step": step,
        "group_id": group,
        "problem_id": problem,
        "prompt": "",
        "completion": "",
        "reward": reward,
        "advantage": 0.0,
        "rewards": {"execution": tests, "judge": judge},
        "outcome": {"status": status, "flags": outcome_flags or []},
        "flags": flags or [],
    }


def order(samples: list[dict[str, Any]], rated: set[str] | None = None) -> list[str]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        groups.setdefault(s["group_id"], []).append(s)
    return [c.id for c in rating_queue(samples, groups, rated or set())]


def test_flagged_before_disagreement_before_spread_before_plain() -> None:
    samples = [
        rec("plain", "g1", 0.5, tests=0.5, judge=0.5),
        rec("plain2", "g1", 0.5, tests=0.5, judge=0.5),
        rec("spread-hi", "g2", 1.0, tests=1.0, judge=1.0),
        rec("spread-lo", "g2", 0.0, tests=0.0, judge=0.0),
        rec("disagree", "g3", 0.5, tests=1.0, judge=0.1),
        rec("hack", "g4", 1.0, tests=1.0, judge=1.0, outcome_flags=["exit_before_tests"]),
    ]
    ranked = order(samples)
    assert ranked[0] == "hack"
    assert ranked[1] == "disagree"
    assert set(ranked[2:4]) == {"spread-hi", "spread-lo"}
    assert set(ranked[4:]) == {"plain", "plain2"}


def test_rated_samples_are_left_out_and_ties_are_repeatable() -> None:
    samples = [rec(f"s{i}", f"g{i}", 0.5, step=i % 3) for i in range(6)]
    first = order(samples, rated={"s2"})
    assert "s2" not in first
    assert first == order(list(reversed(samples)), rated={"s2"})
    steps = [int(s[1:]) % 3 for s in first]
    assert steps == sorted(steps, reverse=True)  # equal worth: the newest step first


def test_reasons_say_why() -> None:
    samples = [rec("x", "g", 0.2, tests=1.0, judge=0.0, flags=["possible_reward_hack"])]
    groups = {"g": samples}
    (candidate,) = rating_queue(samples, groups, set())
    assert any("flagged: possible_reward_hack" in r for r in candidate.reasons)
    assert any("tests 1.00 vs judge 0.00" in r for r in candidate.reasons)


def test_ab_partner_is_closest_reward_in_the_group() -> None:
    group = [rec("a", "g", 0.5), rec("b", "g", 0.9), rec("c", "g", 0.45), rec("d", "g", 0.0)]
    assert ab_partner(group[0], group)["id"] == "c"  # type: ignore[index]
    assert ab_partner(group[0], [group[0]]) is None


def test_ab_partner_is_never_the_same_program_and_prefers_another_outcome() -> None:
    a = rec("a", "g", 0.5, program="return 1")
    twin = rec("t", "g", 0.5, program="return 1\n")  # the same program, trailing newline
    close = rec("c", "g", 0.45, program="return 2")
    failed = rec("f", "g", 0.0, program="return 3", status="failed")
    assert ab_partner(a, [a, twin]) is None
    assert ab_partner(a, [a, twin, close])["id"] == "c"  # type: ignore[index]
    assert ab_partner(a, [a, twin, close, failed])["id"] == "f"  # type: ignore[index]


def test_filter_parse_and_match() -> None:
    f = SampleFilter.parse("problem:fiz status:failed reward:0.1..0.6 flagged")
    assert f == SampleFilter("fiz", "failed", 0.1, 0.6, True)
    hit = rec("h", "g", 0.3, status="failed", problem="fizz", flags=["x"])
    assert f.matches(hit)
    assert not f.matches(rec("m", "g", 0.3, status="failed", problem="fizz"))
    assert SampleFilter.parse("add reward>0.5").matches(rec("a", "g", 0.7, problem="add_two"))
    with pytest.raises(FilterError, match="unknown filter 'colour:red'"):
        SampleFilter.parse("colour:red")
    with pytest.raises(FilterError, match="not a number"):
        SampleFilter.parse("reward>high")


def test_select_sorts() -> None:
    samples = [rec("a", "g", 0.1, step=3), rec("b", "g", 0.9, step=1), rec("c", "g", 0.5, step=2)]
    assert [s["id"] for s in select(samples, SampleFilter(), "newest")] == ["a", "c", "b"]
    assert [s["id"] for s in select(samples, SampleFilter(), "reward ↓")] == ["b", "c", "a"]


def test_run_model_folds_snapshot_then_live_frames_without_duplicates() -> None:
    model = RunModel()
    point = {"step": 1, "time": 0.0, "reward/mean": 0.5}
    sample = rec("s1", "g1", 0.5)
    model.apply(Event(id=1, type="snapshot", data={"metrics": [point], "samples": [sample]}))
    model.apply(Event(id=2, type="metrics", data={"step": 2, "time": 1.0, "reward/mean": 0.7}))
    # A reconnect replays what the model already holds: nothing is counted twice.
    model.apply(Event(id=3, type="snapshot", data={"metrics": [point], "samples": [sample]}))
    model.apply(Event(id=4, type="rating", data={"id": "r1", "sample_id": "s1", "score": 4}))
    model.apply(Event(id=5, type="rating", data={"id": "r1", "sample_id": "s1", "score": 4}))
    assert model.series("reward/mean") == [(1, 0.5), (2, 0.7)]
    assert list(model.samples) == ["s1"]
    assert model.group_of(sample) == [sample]
    assert model.run_ratings == 1
    assert model.rated == {"s1"}
    assert model.last_event_id == 5


def test_long_problem_ids_keep_their_distinguishing_tail() -> None:
    assert short_problem_id("add_two") == "add_two"
    assert short_problem_id("quickstart/train/1946") == "…/train/1946"
    assert short_problem_id("abcdefghijklmnopqrstuvwxyz") == "…lmnopqrstuvwxyz"
    assert short_problem_id("quickstart/train/0474", 13) == "…/train/0474"
