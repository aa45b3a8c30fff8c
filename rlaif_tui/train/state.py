"""What a `Trainer` tells its owner: hooks, a step's result, its state; ratings in checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlaif_tui.api.models import Rating, RatingIn
from rlaif_tui.api.samples import Sample


@dataclass
class Hooks:
    """Callbacks the daemon uses to forward events; all optional."""

    on_metrics: Callable[[int, dict[str, float]], None] | None = None
    on_samples: Callable[[list[Sample]], None] | None = None
    """Sample records in their wire form (`api.samples.SampleRecord.wire()`)."""
    on_log: Callable[[str, str], None] | None = None
    """(level, message), level one of `info`, `warning`, `error`."""
    on_phase: Callable[[str], None] | None = None
    on_progress: Callable[[str, int | None, int | None], None] | None = None
    """(what, done, total) while `from_config` sets up: `loading model`, `building warm
    start` (done/total supervised steps), `starting sandbox`."""


@dataclass
class StepResult:
    step: int
    metrics: dict[str, float]
    samples: list[Sample]
    """`SampleRecord.wire()` of each completion."""


@dataclass
class TrainerState:
    step: int
    total_steps: int
    phase: str
    """`idle`, `generating`, `scoring`, `training`, `checkpointing` or `done`."""
    algorithm: str
    model: str
    device: str
    isolation: str


def stored_rating(data: dict[str, Any]) -> RatingIn:
    """A rating from a checkpoint; checkpoints before the one `Rating` type stored a preference
    as `kind: preference` with the chosen sample in `sample_id`."""
    if "kind" in data:
        old = {k: v for k, v in data.items() if v is not None and k != "kind"}
        if data["kind"] == "preference":
            old["chosen_id"] = old.pop("sample_id")
        old["id"] = str(old["id"]).rjust(8, "_")  # ids are compared, never shown
        old["rater"] = old.get("rater") or "anonymous"
        return RatingIn.model_validate(old)
    return (Rating if "created_at" in data else RatingIn).model_validate(data)
