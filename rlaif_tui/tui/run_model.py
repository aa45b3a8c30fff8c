"""What the TUI knows about the run: status, metric history, recent samples, ratings.

Plain data, no widgets: message handlers `apply` websocket events here, and screens redraw from
it on the app's refresh tick. Each part carries a version number that bumps when it changes,
so a screen redraws only what changed, and several events between two ticks cost one redraw.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rlaif_tui.api import Event, Settings, Status
from rlaif_tui.api.samples import Sample as Sample  # re-exported: the screens use it
from rlaif_tui.api.samples import SampleIndex

MAX_POINTS = 2000
"""Metric points kept per key: a chart is at most a few hundred cells wide."""
MAX_SAMPLES = 2000
"""Samples kept for browsing and rating; older ones drop out, oldest first."""


@dataclass
class Versions:
    status: int = 0
    metrics: int = 0
    samples: int = 0
    ratings: int = 0
    log: int = 0


@dataclass
class RunModel:
    status: Status | None = None
    metrics: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)
    latest: dict[str, float] = field(default_factory=dict)
    samples: SampleIndex = field(default_factory=lambda: SampleIndex(MAX_SAMPLES))
    """Replace-by-id, as the daemon's: the final record after a rating hold wins."""
    rated: set[str] = field(default_factory=set)
    """Sample ids that have a rating in the run (from `rating` events) or from this client."""
    rating_ids: set[str] = field(default_factory=set)
    run_ratings: int = 0
    log: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=200))
    last_event_id: int | None = None
    versions: Versions = field(default_factory=Versions)

    def apply(self, event: Event) -> None:
        """Fold one websocket frame into the model."""
        self.last_event_id = event.id
        data = event.data
        if event.type == "snapshot":
            self._apply_snapshot(data)
        elif event.type == "metrics":
            self.add_metrics(data)
        elif event.type == "sample":
            self.add_sample(data)
        elif event.type == "rating":
            self.add_rating(data)
        elif event.type == "status":
            self.set_status(Status.model_validate(data))
        elif event.type in ("log", "error"):
            level = str(data.get("level", "error" if event.type == "error" else "info"))
            text = str(data.get("message", data))
            self.log.append((level, text))
            self.versions.log += 1

    def _apply_snapshot(self, data: dict[str, Any]) -> None:
        if "status" in data:
            self.set_status(Status.model_validate(data["status"]))
        for point in data.get("metrics", []):
            self.add_metrics(point)
        for sample in sorted(data.get("samples", []), key=lambda s: int(s.get("step", 0))):
            self.add_sample(sample)
        for rating in data.get("ratings", []):
            self.add_rating(rating, count=False)

    def set_status(self, status: Status) -> None:
        self.status = status
        self.run_ratings = status.ratings
        self.versions.status += 1

    def set_settings(self, settings: Settings) -> None:
        if self.status is not None:
            self.status = self.status.model_copy(update={"settings": settings})
            self.versions.status += 1

    def add_metrics(self, point: dict[str, Any]) -> None:
        step = int(point.get("step", 0))
        for key, value in point.items():
            if key in ("step", "time") or not isinstance(value, int | float):
                continue
            series = self.metrics.get(key)
            if series is None:
                series = self.metrics[key] = deque(maxlen=MAX_POINTS)
            if series and series[-1][0] >= step:
                # A replayed point (snapshot after a reconnect): keep the series increasing.
                continue
            series.append((step, float(value)))
            self.latest[key] = float(value)
        self.versions.metrics += 1

    def add_sample(self, sample: Sample) -> None:
        self.samples.add([sample])
        self.versions.samples += 1

    def add_rating(self, rating: dict[str, Any], *, count: bool = True) -> None:
        rid = str(rating.get("id", ""))
        for key in ("sample_id", "chosen_id", "rejected_id"):
            if rating.get(key):
                self.rated.add(str(rating[key]))
        if rid and rid not in self.rating_ids:
            self.rating_ids.add(rid)
            if count:
                self.run_ratings += 1
        self.versions.ratings += 1

    def group_of(self, sample: Sample) -> list[Sample]:
        """The samples of `sample`'s group that this client has seen, in arrival order."""
        return self.samples.group(sample)

    @property
    def groups(self) -> dict[str, list[str]]:
        """Sample ids by `group_id`, in arrival order."""
        return self.samples.groups

    def series(self, key: str) -> list[tuple[int, float]]:
        return list(self.metrics.get(key, ()))
