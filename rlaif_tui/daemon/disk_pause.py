"""A run that waits out a failed disk (phase `paused_io_error`) instead of crashing.

Functions of the daemon's `Runner`, called on its training thread when a step, a checkpoint or
a command failed with a disk error (`disk.disk_error`): pause until a probe write succeeds
(`disk.writable`), `resume` is asked for or the run is stopped; and checkpoint a step whose
update happened but whose writes did not.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rlaif_tui.daemon.disk import disk_error, writable

if TYPE_CHECKING:
    from rlaif_tui.daemon.runner import Runner
    from rlaif_tui.train.trainer import Trainer

log = logging.getLogger("rlaif.daemon")

PROBE_EVERY_S = 2.0
"""How often a run paused on a disk error tries a probe write."""


def wait_for_disk(r: Runner, reason: str) -> None:
    """Pause (phase `paused_io_error`) until a probe write succeeds, `resume` is requested or
    the run is stopped."""
    r.io_error = reason
    message = (
        f"training paused: the run directory's disk failed ({reason}); it resumes by "
        "itself once writes succeed again (or POST /api/control/resume)"
    )
    log.error(message)
    r._to_loop(r.hub.publish, "error", {"level": "error", "message": message})
    r.phase = "paused_io_error"
    r._to_loop(r.publish_status)
    while True:
        with r._cond:
            if not (r._retry_now or r.stop_requested):
                r._cond.wait(PROBE_EVERY_S)
            retry, r._retry_now = r._retry_now, False
            if r.stop_requested:
                break
        if retry or writable(r.run_dir):
            break
    r.io_error = None
    r.phase = "idle"
    log.info("the disk takes writes again: training goes on")
    r._to_loop(r.hub.publish, "log", {"level": "info", "message": "training resumed"})
    r._to_loop(r.publish_status)


def recover_step(r: Runner, trainer: Trainer) -> None:
    """After a step whose update happened but whose writes failed: checkpoint it, so the run
    resumes from here; its metrics and samples lines may be missing."""
    r.step = trainer.step_count
    log.warning("step %d: metrics/samples may be missing (disk error)", r.step)
    while not r.stop_requested:
        try:
            trainer.save_checkpoint()
        except Exception as exc:
            reason = disk_error(exc)
            if reason is None:
                raise
            wait_for_disk(r, reason)
            continue
        r._note_checkpoint(trainer)
        return
