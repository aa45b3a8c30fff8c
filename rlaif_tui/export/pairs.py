"""TRL preference JSONL (`{"prompt", "chosen", "rejected"}` per line) from a run's
`ratings.sqlite`, without a daemon: the same pairs as `GET /api/pairs`."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path

from rlaif_tui.daemon.store import RatingsStore


class ExportError(ValueError):
    """The run or its ratings cannot be exported; the message names the file."""


def export_pairs(run: Path, out: Path) -> int:
    """Write the run's preference pairs to `out` (atomically); returns how many."""
    db = run / "ratings.sqlite"
    if not run.is_dir():
        raise ExportError(f"{run}: no such run directory")
    if not db.is_file():
        raise ExportError(f"{db}: not found (the run has no ratings: was it served by a daemon?)")
    try:
        store = RatingsStore(db)
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{db}: not a ratings database ({exc})") from None
    try:
        pairs = list(store.pairs())
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{db}: cannot read the ratings ({exc})") from None
    finally:
        store.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return len(pairs)
