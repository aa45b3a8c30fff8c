"""Rubric prompt, score parsing and the rolling per-minute limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from rlaif_tui.config.judge import RubricConfig
from rlaif_tui.feedback.judge.limits import RollingLimit
from rlaif_tui.feedback.judge.retry import retry_after_s
from rlaif_tui.feedback.judge.rubric import (
    UnparseableScore,
    parse_group_scores,
    parse_scores,
    rubric_digest,
    system_prompt,
    user_message,
)

R = RubricConfig()
FULL = '{"correctness": 10, "readability": 1, "efficiency": 10, "safety": 1}'


def test_json_answer_maps_scale_to_unit_interval() -> None:
    j = parse_scores(FULL, R)
    assert j.score == pytest.approx(0.5)  # (1 + 0 + 1 + 0) / 4
    assert j.criteria["readability"] == 1


def test_fenced_json_with_prose_and_case_differences() -> None:
    text = (
        'Sure.\n```json\n{"Correctness": 7, "readability": "7", "efficiency": 7, "SAFETY": 7}\n```'
    )
    assert parse_scores(text, R).score == pytest.approx(6 / 9)


def test_plain_lines_are_accepted() -> None:
    text = "correctness: 4\nreadability = 4\nefficiency: 4\nsafety: 4"
    assert parse_scores(text, R).score == pytest.approx(3 / 9)


def test_criterion_weights() -> None:
    weighted = RubricConfig(
        weights={"correctness": 3.0, "safety": 1.0, "readability": 0.0, "efficiency": 0.0}
    )
    assert parse_scores(FULL, weighted).score == pytest.approx(0.75)


@pytest.mark.parametrize(
    "text",
    [
        "looks good to me",
        '{"correctness": 11, "readability": 5, "efficiency": 5, "safety": 5}',
        '{"correctness": 5, "readability": 5, "efficiency": 5}',
        '{"correctness": true, "readability": 5, "efficiency": 5, "safety": 5}',
        "",
    ],
)
def test_incomplete_or_out_of_range_answers_are_unparseable(text: str) -> None:
    with pytest.raises(UnparseableScore):
        parse_scores(text, R)


def test_group_answer_needs_one_entry_per_candidate() -> None:
    one = '{"correctness": 1, "readability": 1, "efficiency": 1, "safety": 1}'
    text = f'{{"scores": [{FULL}, {one}]}}'
    got = parse_group_scores(text, R, 2)
    assert [g.score for g in got] == [pytest.approx(0.5), 0.0]
    with pytest.raises(UnparseableScore, match="2 scores for 3"):
        parse_group_scores(text, R, 3)


def test_prompt_lists_criteria_and_fences_candidates() -> None:
    system = system_prompt(RubricConfig(criteria={"tests": "Would it pass?"}, scale=(0, 5)))
    assert "- tests: Would it pass?" in system
    assert "<0-5>" in system
    user = user_message("def f():\n", ["return 1", "x" * 50], max_chars=20)
    assert "### Candidate 1\n```python\nreturn 1\n```" in user
    assert "# ... (cut)" in user


def test_rubric_digest_changes_with_the_rubric() -> None:
    assert rubric_digest(R) == rubric_digest(RubricConfig())
    assert rubric_digest(R) != rubric_digest(RubricConfig(instructions="Be brief."))


def test_bad_rubric_config_says_what_to_fix() -> None:
    with pytest.raises(ValueError, match="unknown criteria"):
        RubricConfig(weights={"speed": 1.0})
    with pytest.raises(ValueError, match="below the second"):
        RubricConfig(scale=(5, 5))


def test_retry_after_forms() -> None:
    assert retry_after_s({"Retry-After": "2"}) == 2.0
    assert retry_after_s({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    assert retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10
    assert retry_after_s({"Retry-After": "soon"}) is None
    assert retry_after_s({}) is None


async def test_rolling_limit_waits_for_the_window() -> None:
    limit = RollingLimit(2, window_s=0.4)
    t0 = time.monotonic()
    for _ in range(3):
        await limit.acquire()
    assert time.monotonic() - t0 >= 0.35  # the third waited for the first to age out


async def test_rolling_limit_counts_tokens_and_corrects_estimates() -> None:
    limit = RollingLimit(100, window_s=0.4)
    entry = await limit.acquire(90)
    RollingLimit.adjust(entry, 10)  # the request used far less than estimated
    t0 = time.monotonic()
    await asyncio.wait_for(limit.acquire(80), timeout=1)
    assert time.monotonic() - t0 < 0.2
    assert limit.used() == 90
    huge = await asyncio.wait_for(limit.acquire(10_000), timeout=2)  # clamped, not stuck
    assert huge[1] == 100
