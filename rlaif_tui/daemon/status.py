"""What the API reads of a run: its state, its `Status` (`GET /api/status`, `status` events)
and the snapshot a new event-stream client gets first.

Built on the event loop from what the `Runner` publishes: fields the training thread sets by
single assignment, and the metrics, samples and ratings the loop keeps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlaif_tui.api.models import RunState, Status

if TYPE_CHECKING:
    from rlaif_tui.daemon.runner import Runner

SNAPSHOT_METRICS = 500
SNAPSHOT_SAMPLES = 200
SNAPSHOT_RATINGS = 500
SNAPSHOT_SETTINGS = 200


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a run's JSON-lines file (none if it is missing); a torn line is skipped."""
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a kill
    return rows


def run_state(r: Runner) -> RunState:
    if r.failed is not None:
        return "failed"
    if r.stopped:
        return "stopped"
    if r.stop_requested:
        return "stopping"
    if r.paused or r.io_error is not None:
        return "paused"
    if r.trainer is None:
        return "starting"
    if r.step >= r.cfg.run.steps:
        return "finished"
    return "running"


def status_of(r: Runner) -> Status:
    state = run_state(r)
    eta = None
    if r.step_s and state == "running":
        eta = (r.cfg.run.steps - r.step) * sum(r.step_s) / len(r.step_s)
    return Status(
        run=r.run_dir.name,
        state=state,
        step=r.step,
        total_steps=r.cfg.run.steps,
        phase=r.phase,
        algorithm=r.cfg.algorithm,
        model=r.cfg.model.name,
        device=r.device,
        isolation=r.isolation,
        eta_s=eta,
        started_at=r.started_at,
        last_checkpoint=r.last_checkpoint,
        ratings=r.rating_count,
        settings=r.settings,
        progress=r.progress if r.trainer is None and r.failed is None else None,
    )


def snapshot_of(r: Runner) -> dict[str, Any]:
    """The first frame of `GET /api/events`: the status and the recent history of the run."""
    return {
        "status": status_of(r).model_dump(mode="json"),
        "metrics": r.metrics[-SNAPSHOT_METRICS:],
        "samples": r.samples.recent(SNAPSHOT_SAMPLES),
        "ratings": list(r.recent_ratings),
        "settings_changes": read_jsonl(r.run_dir / "settings.jsonl")[-SNAPSHOT_SETTINGS:],
    }
