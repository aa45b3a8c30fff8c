"""Start-up progress of a daemon's run: what the trainer's `on_progress` hook reported, with an
ETA at the rate so far, and when it is worth a status event or a log line (throttled).
"""

from __future__ import annotations

import time

from rlaif_tui.api.models import Progress

PROGRESS_PUBLISH_S = 0.5
"""Start-up progress goes out as a status event at most this often (and on each new phase)."""
PROGRESS_LOG_S = 10.0
"""... and into the daemon's log (what `rlaif daemon` prints) at most this often."""


class StartupProgress:
    """Fed from the training thread; `progress` is read anywhere (a single assignment)."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self._since: tuple[float, int] = (0.0, 0)
        """(when the current phase started, its `done` then): the ETA's rate is since then."""
        self._sent = self._logged = 0.0

    def update(self, what: str, done: int | None, total: int | None) -> tuple[bool, bool]:
        """Record a report; returns (publish a status event now, write a log line now): on a
        new phase, on its last count, else at most every `PROGRESS_PUBLISH_S` / `_LOG_S`."""
        now = time.monotonic()
        new = self.progress is None or self.progress.what != what
        if new:
            self._since = (now, done or 0)
        eta = None
        since, first = self._since
        if done is not None and total and done > first and now > since:
            eta = (now - since) / (done - first) * (total - done)
        self.progress = Progress(what=what, done=done, total=total, eta_s=eta)
        last = done is not None and done == total
        publish = new or last or now - self._sent >= PROGRESS_PUBLISH_S
        note = new or last or now - self._logged >= PROGRESS_LOG_S
        if publish:
            self._sent = now
        if note:
            self._logged = now
        return publish, note
