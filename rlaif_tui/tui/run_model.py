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
from rlaif_tui.api.samples import SampleIndex, checked

MAX_POINTS = 2000
"""Metric points kept per key: a chart is at most a few hundred cells wide."""
MAX_SAMPLES = 2000
"""Samples kept for browsing and rating; older ones drop out, oldest first."""


def describe_settings(values: dict[str, Any]) -> str:
    """`temperature 1.3, weight human 1` for a journalled change (`settings.jsonl`)."""
    parts = []
    for key, value in sorted(values.items()):
        if key == "reward_weights" and isinstance(value, dict):
            parts += [f"weight {k} {v:g}" for k, v in sorted(value.items())]
        elif isinstance(value, int | float):
            parts.append(f"{key} {value:g}")
    return ", ".join(parts)


def settings_diff(old: Settings, new: Settings) -> str:
    """`temperature 1→1.3` for what differs between two settings."""
    parts = []
    for key in ("kl_coef", "kl_target", "temperature"):
        a, b = getattr(old, key), getattr(new, key)
        if a != b:
            parts.append(f"{key} {_num(a)}→{_num(b)}")
    for name in sorted(set(old.reward_weights) | set(new.reward_weights)):
        a, b = old.reward_weights.get(name), new.reward_weights.get(name)
        if a != b:
            parts.append(f"weight {name} {_num(a)}→{_num(b)}")
    return ", ".join(parts)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


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
    settings_marks: list[tuple[int, str]] = field(default_factory=list)
    """(step, what changed) for each live settings change: the charts mark these steps."""
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
            self.add_sample(checked(data))
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
            self.add_sample(checked(sample))
        for rating in data.get("ratings", []):
            self.add_rating(rating, count=False)
        for change in data.get("settings_changes", []):
            values = change.get("settings") or {}
            self.mark_settings(int(change.get("step", 0)), describe_settings(values))

    def mark_settings(self, step: int, what: str) -> None:
        if what and (step, what) not in self.settings_marks:
            self.settings_marks.append((step, what))
            self.settings_marks.sort()

    def set_status(self, status: Status) -> None:
        old = self.status
        if old is not None and old.run == status.run and old.settings != status.settings:
            self.mark_settings(status.step, settings_diff(old.settings, status.settings))
        self.status = status
        self.run_ratings = status.ratings
        self.versions.status += 1

    def set_settings(self, settings: Settings) -> None:
        if self.status is not None:
            self.set_status(self.status.model_copy(update={"settings": settings}))

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

    def recent_mean(self, key: str, steps: int) -> float | None:
        """Mean of the last `steps` points of `key`, or None before the first."""
        points = list(self.metrics.get(key, ()))[-steps:]
        return sum(v for _, v in points) / len(points) if points else None
