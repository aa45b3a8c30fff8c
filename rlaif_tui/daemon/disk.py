"""Disk errors (a full disk, an I/O error) as a condition the daemon waits out, not a crash.

`disk_error(exc)` says whether an exception, or one it was raised from, is a disk failure:
an `OSError` with ENOSPC, EDQUOT or EIO, SQLite's "disk is full" / "disk I/O error", or
torch's "file write failed" (its writer reports no errno). `writable(run_dir)` is the probe
the trainer's thread uses to notice that space is back: it writes, fsyncs and removes a file
of `PROBE_BYTES`.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})
PROBE_BYTES = 1 << 20
"""A probe this large must fit before training goes on (a checkpoint of the smoke model is
about this size; a bigger one that still does not fit just pauses again)."""
_MESSAGES = ("no space left", "disk is full", "disk i/o error", "file write failed")


def disk_error(exc: BaseException, run_dir: Path | None = None) -> str | None:
    """A one-line description if `exc` (or its cause/context) is a disk failure, else None.

    With `run_dir`, an error no wording above recognises (a library that reports a failed
    write its own way, e.g. torch's "unexpected pos" from a checkpoint on a full disk) is a
    disk failure too when the run directory cannot be written right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_ERRNOS:
            return f"{os.strerror(current.errno)} ({current.filename or 'run directory'})"
        text = str(current).lower()
        if isinstance(current, sqlite3.Error | RuntimeError | OSError) and any(
            m in text for m in _MESSAGES
        ):
            return str(current).splitlines()[0][:200]
        current = current.__cause__ or current.__context__
    if run_dir is not None and not writable(run_dir):
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return f"the run directory cannot be written ({first})"
    return None


def writable(run_dir: Path) -> bool:
    """True if `PROBE_BYTES` can be written and fsynced in `run_dir` right now."""
    probe = run_dir / ".write-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if os.write(fd, b"\0" * PROBE_BYTES) != PROBE_BYTES:
                return False
            os.fsync(fd)
        finally:
            os.close(fd)
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)
