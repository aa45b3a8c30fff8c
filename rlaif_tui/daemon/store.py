"""Ratings in SQLite (`<run>/ratings.sqlite`): WAL, `synchronous=FULL`, so a committed rating
is on disk before the API acknowledges it and survives a kill -9.

Idempotent on the client's id: the same rating posted again returns the stored one; a different
rating under a used id is a conflict. The rated samples' prompt and completion are kept beside
the ratings, so preference pairs can be exported after the samples have left memory.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rlaif_tui.api.models import Rating, RatingIn
from rlaif_tui.daemon.disk import disk_error

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    step INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    completion TEXT NOT NULL
);
"""


class RatingConflict(ValueError):
    """The id is already stored with a different rating."""


class StorageFull(OSError):
    """The rating could not be written: the disk is full or failing. Nothing was stored."""


class RatingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)

    def add(
        self, rating: RatingIn, step: int, samples: Mapping[str, Mapping[str, Any]]
    ) -> tuple[Rating, bool]:
        """Store `rating` (fsynced on return); returns it and whether it was new.

        `samples` are the records it names, by id, kept for the pairs export.
        """
        body = rating.model_dump(mode="json")
        with self._lock:
            row = self._db.execute(
                "SELECT body, created_at, step FROM ratings WHERE id = ?", (rating.id,)
            ).fetchone()
            if row is not None:
                if json.loads(row[0]) != body:
                    raise RatingConflict(
                        f"rating id {rating.id!r} is already stored with different content; "
                        "use a new id for a new rating"
                    )
                return _rating(row[0], row[1], row[2]), False
            now = time.time()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO ratings (id, body, created_at, step) VALUES (?, ?, ?, ?)",
                    (rating.id, json.dumps(body), now, step),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO samples (id, group_id, prompt, completion) "
                    "VALUES (?, ?, ?, ?)",
                    [
                        (sid, str(s.get("group_id", "")), str(s["prompt"]), str(s["completion"]))
                        for sid, s in samples.items()
                    ],
                )
                self._db.execute("COMMIT")  # synchronous=FULL: the WAL is fsynced here
            except BaseException as exc:
                if self._db.in_transaction:  # SQLite may have rolled back by itself already
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                reason = disk_error(exc)
                if reason is not None:
                    raise StorageFull(
                        f"the rating was not stored: the run directory's disk failed ({reason}); "
                        "free space and post it again"
                    ) from exc
                raise
            return Rating(**body, created_at=now, step=step), True

    def get(self, rating_id: str) -> Rating | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, created_at, step FROM ratings WHERE id = ?", (rating_id,)
            ).fetchone()
        return None if row is None else _rating(*row)

    def all(self) -> list[Rating]:
        """Every rating, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body, created_at, step FROM ratings ORDER BY seq"
            ).fetchall()
        return [_rating(*row) for row in rows]

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM ratings").fetchone()
        return int(n)

    def texts(self) -> dict[str, tuple[str, str]]:
        """Sample id -> (prompt, completion) of every rated sample."""
        with self._lock:
            rows = self._db.execute("SELECT id, prompt, completion FROM samples").fetchall()
        return {sid: (prompt, completion) for sid, prompt, completion in rows}

    def pairs(self) -> Iterator[dict[str, str]]:
        """Preference pairs `{"prompt", "chosen", "rejected"}` (TRL's format) from the ratings:
        each A/B preference, and within a prompt each two completions with different mean scores
        (the higher one chosen)."""
        texts = self.texts()
        scores: dict[str, dict[str, list[int]]] = {}  # prompt -> completion -> scores
        for r in self.all():
            if r.kind == "preference":
                assert r.chosen_id is not None
                assert r.rejected_id is not None
                chosen, rejected = texts.get(r.chosen_id), texts.get(r.rejected_id)
                if chosen and rejected and chosen[1] != rejected[1]:
                    yield {"prompt": chosen[0], "chosen": chosen[1], "rejected": rejected[1]}
            elif r.sample_id in texts and r.score is not None:
                prompt, completion = texts[r.sample_id]
                scores.setdefault(prompt, {}).setdefault(completion, []).append(r.score)
        for prompt, by_completion in scores.items():
            means = sorted(((sum(s) / len(s), c) for c, s in by_completion.items()), reverse=True)
            for i, (high, better) in enumerate(means):
                for low, worse in means[i + 1 :]:
                    if high > low:
                        yield {"prompt": prompt, "chosen": better, "rejected": worse}

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _rating(body: str, created_at: float, step: int) -> Rating:
    return Rating(**json.loads(body), created_at=created_at, step=step)
