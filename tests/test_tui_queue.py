"""The durable ratings queue and the rating desk's undo: nothing lost, nothing doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlaif_tui.api import RatingIn
from rlaif_tui.tui.rating_desk import RatingDesk
from rlaif_tui.tui.ratings_queue import QueueFileError, RatingQueue, new_rating_id


def score(sample: str, value: int = 3) -> RatingIn:
    return RatingIn(id=new_rating_id(), sample_id=sample, score=value)


def test_pending_ratings_survive_a_restart_in_order(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    queue = RatingQueue(path)
    ratings = [score(f"s{i}", i + 1) for i in range(4)]
    for r in ratings:
        queue.add(r)
    queue.ack(ratings[1].id)
    assert queue.withdraw(ratings[2].id)

    again = RatingQueue(path)
    assert [r.id for r in again.pending()] == [ratings[0].id, ratings[3].id]
    assert again.pending()[1] == ratings[3]


def test_a_rating_is_queued_once_and_acknowledged_once(tmp_path: Path) -> None:
    queue = RatingQueue(tmp_path / "q.jsonl")
    rating = score("s1")
    queue.add(rating)
    queue.add(rating)
    assert len(queue) == 1
    queue.ack(rating.id)
    queue.ack(rating.id)
    queue.add(rating)  # an acknowledged id is not queued again
    assert len(queue) == 0
    assert not queue.withdraw(rating.id)


def test_journal_is_emptied_when_nothing_is_pending(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    queue = RatingQueue(path)
    a, b = score("a"), score("b")
    queue.add(a)
    queue.add(b)
    queue.ack(a.id)
    assert path.stat().st_size > 0
    queue.reject(b.id, "not_found: unknown sample")
    assert path.read_text() == ""
    assert RatingQueue(path).pending() == []


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    queue = RatingQueue(path)
    kept = score("kept")
    queue.add(kept)
    with path.open("a") as f:
        f.write('{"op":"add","rating":{"id":"tui-torn')  # the process died mid-write
    assert [r.id for r in RatingQueue(path).pending()] == [kept.id]


def test_corrupt_line_names_file_and_line_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    queue = RatingQueue(path)
    queue.add(score("a"))
    with path.open("a") as f:
        f.write("not json\n")
    queue.add(score("b"))
    before = path.read_bytes()
    with pytest.raises(QueueFileError, match=r"q\.jsonl:2:"):
        RatingQueue(path)
    assert path.read_bytes() == before


def test_due_waits_for_the_undo_window(tmp_path: Path) -> None:
    queue = RatingQueue(tmp_path / "q.jsonl")
    old, new = score("old"), score("new")
    queue.add(old, at=100.0)
    queue.add(new, at=109.0)
    assert [r.id for r in queue.due(now=110.0, delay_s=3.0)] == [old.id]
    assert [r.id for r in queue.due(now=112.0, delay_s=3.0)] == [old.id, new.id]


def test_desk_undo_withdraws_newest_unsent_and_keeps_acknowledged(tmp_path: Path) -> None:
    desk = RatingDesk(tmp_path, rater="tester", undo_window_s=0.0)
    desk.open("run-a")
    first = desk.score("s1", 5)
    second = desk.prefer("s2", "s3", "B loops forever")
    desk.skip("s4")
    assert desk.excluded() == {"s1", "s2", "s3", "s4"}

    action, _ = desk.undo()
    assert action is not None
    assert action.kind == "skip"
    desk.in_flight.add(second.id)  # being sent right now: no longer undoable
    assert desk.acknowledged(first.id)
    assert not desk.acknowledged(first.id)  # a second answer is not counted again
    action, message = desk.undo()
    assert action is None
    assert "acknowledged" in message
    desk.in_flight.discard(second.id)
    action, _ = desk.undo()
    assert action is not None
    assert action.rating_id == second.id
    assert desk.session_acked == 1
    assert desk.queued == 0
    assert desk.excluded() == {"s1"}


def test_desk_reloads_pending_ratings_of_the_same_run(tmp_path: Path) -> None:
    desk = RatingDesk(tmp_path, rater="tester")
    desk.open("run/with spaces")
    rating = desk.score("s9", 2, "off by one")
    later = RatingDesk(tmp_path, rater="tester")
    later.open("run/with spaces")
    assert later.queue is not None
    assert later.queue.pending() == [rating]
    assert later.excluded() == {"s9"}
    other = RatingDesk(tmp_path)
    other.open("another-run")
    assert other.queued == 0
