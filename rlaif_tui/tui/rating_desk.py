"""The rating session: makes ratings, queues them durably, undoes and skips, counts.

Undo is local: a rating waits `undo_window_s` seconds in the durable queue before it is sent
(like an e-mail client's "undo send"), and `undo` withdraws the newest rating that has not been
sent yet — while offline that is every queued rating. Once the daemon has acknowledged a rating
it is part of the run's store and this client does not take it back; rate the sample again to
add a newer opinion. Undo also takes back a skip.
"""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass, field
from pathlib import Path

from rlaif_tui.api import RatingIn
from rlaif_tui.tui.ratings_queue import RatingQueue, new_rating_id, queue_path


@dataclass
class Action:
    kind: str
    """`rate` or `skip`."""
    sample_ids: tuple[str, ...]
    rating_id: str | None = None


def default_rater() -> str:
    try:
        return getpass.getuser() or "anonymous"
    except (KeyError, OSError):
        return "anonymous"


@dataclass
class RatingDesk:
    state_dir: Path
    rater: str = field(default_factory=default_rater)
    undo_window_s: float = 3.0
    queue: RatingQueue | None = None
    run: str | None = None
    session_acked: int = 0
    skipped: set[str] = field(default_factory=set)
    history: list[Action] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)
    _rated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Rating id → the sample ids it rates, for everything this client queued."""

    def open(self, run: str) -> None:
        """Load (or start) the queue of `run`; its pending ratings are sent on the next flush."""
        if self.run == run:
            return
        self.run = run
        self.queue = RatingQueue(queue_path(self.state_dir, run))
        for rating in self.queue.pending():
            self._rated[rating.id] = _samples_of(rating)

    def _require_queue(self) -> RatingQueue:
        if self.queue is None:
            raise RuntimeError("no run yet: ratings need a connection to a daemon first")
        return self.queue

    def score(
        self, sample_id: str, score: int, comment: str = "", *, now: bool = False
    ) -> RatingIn:
        """Queue a 1-5 score; `now` skips the undo window (its batch is held for ratings, and
        waiting would miss the update)."""
        rating = RatingIn(
            id=new_rating_id(), sample_id=sample_id, score=score, comment=comment, rater=self.rater
        )
        self._add(rating, now=now)
        return rating

    def prefer(self, chosen_id: str, rejected_id: str, comment: str = "") -> RatingIn:
        rating = RatingIn(
            id=new_rating_id(),
            score=None,
            chosen_id=chosen_id,
            rejected_id=rejected_id,
            comment=comment,
            rater=self.rater,
        )
        self._add(rating)
        return rating

    def _add(self, rating: RatingIn, *, now: bool = False) -> None:
        at = time.time() - self.undo_window_s if now else None
        self._require_queue().add(rating, at=at)
        samples = _samples_of(rating)
        self._rated[rating.id] = samples
        self.history.append(Action("rate", samples, rating.id))

    def skip(self, sample_id: str) -> None:
        self.skipped.add(sample_id)
        self.history.append(Action("skip", (sample_id,)))

    def undo(self) -> tuple[Action | None, str]:
        """Take back the newest action that can be taken back; says what happened."""
        queue = self._require_queue()
        for index in range(len(self.history) - 1, -1, -1):
            action = self.history[index]
            if action.kind == "skip":
                del self.history[index]
                self.skipped.discard(action.sample_ids[0])
                return action, "skip undone"
            assert action.rating_id is not None
            if action.rating_id in self.in_flight or not queue.is_pending(action.rating_id):
                continue
            queue.withdraw(action.rating_id)
            del self.history[index]
            self._rated.pop(action.rating_id, None)
            return action, "rating withdrawn before it was sent"
        return None, "nothing to undo: ratings the daemon has acknowledged are kept"

    def due(self, now: float | None = None) -> list[RatingIn]:
        if self.queue is None:
            return []
        when = time.time() if now is None else now
        return [r for r in self.queue.due(when, self.undo_window_s) if r.id not in self.in_flight]

    def acknowledged(self, rating_id: str) -> bool:
        """Record the daemon's acknowledgement; False if it was already recorded."""
        queue = self._require_queue()
        if not queue.is_pending(rating_id):
            return False
        queue.ack(rating_id)
        self.session_acked += 1
        return True

    def rejected(self, rating_id: str, error: str) -> None:
        self._require_queue().reject(rating_id, error)
        self._rated.pop(rating_id, None)

    @property
    def queued(self) -> int:
        return len(self.queue) if self.queue is not None else 0

    def excluded(self) -> set[str]:
        """Sample ids this client has rated (queued or sent) or skipped."""
        ids = set(self.skipped)
        for samples in self._rated.values():
            ids.update(samples)
        return ids


def _samples_of(rating: RatingIn) -> tuple[str, ...]:
    ids = (rating.sample_id, rating.chosen_id, rating.rejected_id)
    return tuple(i for i in ids if i is not None)
