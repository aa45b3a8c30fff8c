"""Ratings on their way from the ratings store to the trainer.

A stored rating normally waits for the next step boundary, where the training thread takes the
waiting ones. While a step holds its scored batch open for ratings (`reward.human.hold_s`), a
rating is handed to the trainer at once instead, under a lock the training thread takes before
it goes on with the update, so it counts for that batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rlaif_tui.api.models import Rating

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer

log = logging.getLogger("rlaif.daemon")


class RatingHandOver:
    """`deliver` from any thread; `hold`, `release` and `take` from the training thread.

    `cond` is the run's condition: a waiting rating wakes the training thread through it.
    """

    def __init__(self, cond: threading.Condition) -> None:
        self._cond = cond
        self._waiting: list[Rating] = []  # under `cond`
        self._lock = threading.Lock()
        self._holder: Trainer | None = None
        """The trainer while it holds a scored batch open for ratings (under `_lock`)."""

    def deliver(self, rating: Rating) -> None:
        """Hand a stored rating over: now during a rating hold, else at the next step boundary."""
        with self._lock:
            if self._holder is not None:
                self._holder.add_ratings([rating])
                return
        with self._cond:
            self._waiting.append(rating)
            self._cond.notify_all()

    def hold(self, trainer: Trainer | None) -> None:
        """The trainer published a provisional batch: ratings go to it at once from now on."""
        with self._lock:
            self._holder = trainer

    def release(self) -> None:
        """The hold is over (the step moved on): waits for a rating being handed over now."""
        if self._holder is not None:
            with self._lock:
                self._holder = None

    @property
    def waiting(self) -> bool:
        """Whether ratings wait for the next step boundary (read under `cond`)."""
        return bool(self._waiting)

    def take(self) -> list[Rating]:
        """The waiting ratings, which the caller hands to the trainer between steps."""
        with self._cond:
            ratings, self._waiting = self._waiting, []
        return ratings


def hand_over_stored(trainer: Trainer, stored: Iterable[Rating]) -> None:
    """Give a starting trainer the stored ratings it does not hold: those stored after the
    checkpoint it resumed from."""
    missing = [r for r in stored if r.id not in trainer.ratings]
    if missing:
        trainer.add_ratings(missing)
        log.info("handed %d stored ratings to the trainer", len(missing))
