"""The ratings store: durable before it answers, idempotent on the client's id, pairs export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rlaif_tui.api.models import RatingIn
from rlaif_tui.daemon.store import RatingConflict, RatingsStore


def _sample(sid: str, completion: str, prompt: str = "def f():\n") -> dict[str, str]:
    return {
        "id": sid,
        "group_id": sid.rsplit("-", 1)[0],
        "prompt": prompt,
        "completion": completion,
    }


def test_a_rating_posted_twice_is_stored_once_and_a_changed_one_conflicts(tmp_path: Path) -> None:
    store = RatingsStore(tmp_path / "ratings.sqlite")
    rating = RatingIn(id="rating-0001", sample_id="s1-g0-00", score=4)
    samples = {"s1-g0-00": _sample("s1-g0-00", "return 1")}
    first, created = store.add(rating, 3, samples)
    again, created_again = store.add(rating, 5, samples)
    assert (created, created_again) == (True, False)
    assert again == first
    assert again.step == 3
    with pytest.raises(RatingConflict, match="rating-0001"):
        store.add(RatingIn(id="rating-0001", sample_id="s1-g0-00", score=2), 5, samples)
    assert store.count() == 1
    store.close()


def test_a_stored_rating_survives_a_kill_right_after_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite"
    code = f"""
import os, signal
from rlaif_tui.api.models import RatingIn
from rlaif_tui.daemon.store import RatingsStore
store = RatingsStore({str(path)!r})
store.add(RatingIn(id="kill-0001", sample_id="s1-g0-00", score=5), 1,
          {{"s1-g0-00": {{"group_id": "s1-g0", "prompt": "p", "completion": "c"}}}})
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()
    store = RatingsStore(path)
    [stored] = store.all()
    assert (stored.id, stored.sample_id, stored.score, stored.step) == (
        "kill-0001",
        "s1-g0-00",
        5,
        1,
    )
    store.close()


def test_pairs_come_from_preferences_and_from_different_scores_of_one_prompt(
    tmp_path: Path,
) -> None:
    store = RatingsStore(tmp_path / "ratings.sqlite")
    a, b, c = _sample("s1-g0-00", "good"), _sample("s1-g0-01", "bad"), _sample("s1-g0-02", "meh")
    store.add(RatingIn(id="score-0001", sample_id=a["id"], score=5), 1, {a["id"]: a})
    store.add(RatingIn(id="score-0002", sample_id=b["id"], score=1), 1, {b["id"]: b})
    store.add(RatingIn(id="score-0003", sample_id=c["id"], score=1), 1, {c["id"]: c})
    store.add(
        RatingIn(id="pref-00001", chosen_id=c["id"], rejected_id=b["id"]),
        2,
        {c["id"]: c, b["id"]: b},
    )
    pairs = sorted((p["chosen"], p["rejected"]) for p in store.pairs())
    # bad and meh tie on score (no pair between them from scores); the preference adds one
    assert pairs == [("good", "bad"), ("good", "meh"), ("meh", "bad")]
    assert all(p["prompt"] == "def f():\n" for p in store.pairs())
    store.close()
