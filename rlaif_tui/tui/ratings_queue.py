"""The local, durable queue of ratings not yet acknowledged by the daemon.

An append-only JSONL journal, fsynced after every line, so a rating survives a dropped
connection, a crash of the TUI or a reboot:

    {"op": "add", "rating": {RatingIn}, "at": unix_time}
    {"op": "ack", "id": rating_id}          # the daemon stored it (its answer came back)
    {"op": "withdraw", "id": rating_id}     # undone before it was sent
    {"op": "reject", "id": rating_id, "error": "..."}   # the daemon refused it (4xx): never resent

Replaying the journal gives the pending ratings in the order they were made. Each rating keeps
the id the client chose, and the daemon is idempotent on it: a rating whose answer was lost is
sent again and stored once. When nothing is pending the journal is truncated.

A torn last line (the process died mid-write) is ignored; any other bad line is an error
naming the file and line, and nothing in the file is changed.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlaif_tui.api import RatingIn


class QueueFileError(ValueError):
    """The journal has a bad line that is not a torn last write."""


def new_rating_id() -> str:
    return f"tui-{uuid.uuid4().hex}"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rlaif-tui"


def queue_path(state_dir: Path, run: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run) or "run"
    return state_dir / f"queue-{safe}.jsonl"


class RatingQueue:
    """Pending ratings of one run, journalled at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: dict[str, RatingIn] = {}
        self._queued_at: dict[str, float] = {}
        self._done: set[str] = set()
        if path.exists():
            self._replay()

    def _replay(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record: dict[str, Any] = json.loads(raw)
                op = record["op"]
                if op == "add":
                    rating = RatingIn.model_validate(record["rating"])
                    if rating.id not in self._done:
                        self._pending[rating.id] = rating
                        self._queued_at[rating.id] = float(record.get("at", 0.0))
                elif op in ("ack", "withdraw", "reject"):
                    rid = str(record["id"])
                    self._pending.pop(rid, None)
                    self._done.add(rid)
                else:
                    raise ValueError(f"unknown op {op!r}")
            except (ValueError, KeyError, TypeError, ValidationError) as exc:
                # Every record is written as one line ending in a newline; a last line without
                # it is a write the process did not finish, and nobody was told it was saved.
                if number == len(lines) and not data.endswith(b"\n"):
                    break
                raise QueueFileError(f"{self.path}:{number}: {exc}") from exc

    def _append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def add(self, rating: RatingIn, *, at: float | None = None) -> None:
        if rating.id in self._pending or rating.id in self._done:
            return
        when = time.time() if at is None else at
        self._append({"op": "add", "rating": rating.model_dump(exclude_none=True), "at": when})
        self._pending[rating.id] = rating
        self._queued_at[rating.id] = when

    def ack(self, rating_id: str) -> None:
        self._close(rating_id, {"op": "ack", "id": rating_id})

    def reject(self, rating_id: str, error: str) -> None:
        self._close(rating_id, {"op": "reject", "id": rating_id, "error": error})

    def withdraw(self, rating_id: str) -> bool:
        """Undo a rating that is still pending; False if it was already sent or unknown."""
        if rating_id not in self._pending:
            return False
        self._close(rating_id, {"op": "withdraw", "id": rating_id})
        return True

    def _close(self, rating_id: str, record: dict[str, Any]) -> None:
        if rating_id not in self._pending:
            return
        self._append(record)
        del self._pending[rating_id]
        self._queued_at.pop(rating_id, None)
        self._done.add(rating_id)
        if not self._pending:
            self._compact()

    def _compact(self) -> None:
        # Nothing pending: the journal's history is no longer needed.
        with self.path.open("w", encoding="utf-8") as f:
            f.flush()
            os.fsync(f.fileno())

    def pending(self) -> list[RatingIn]:
        """Pending ratings, oldest first."""
        return list(self._pending.values())

    def due(self, now: float, delay_s: float) -> list[RatingIn]:
        """Pending ratings queued at least `delay_s` ago (the undo window has passed)."""
        return [r for r in self._pending.values() if now - self._queued_at[r.id] >= delay_s]

    def is_pending(self, rating_id: str) -> bool:
        return rating_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)
