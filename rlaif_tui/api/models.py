"""Pydantic models of what crosses the wire between the daemon and its clients.

Metric points and samples travel as plain dicts with the keys of docs/architecture.md
(`metrics.jsonl` lines and sample records), so a new metric needs no protocol change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EVENT_VERSION = 1
"""Version of the websocket frame format; bumped on any incompatible change."""

RunState = Literal["starting", "running", "paused", "stopping", "stopped", "finished", "failed"]
EventType = Literal[
    "snapshot", "metrics", "sample", "samples_skipped", "rating", "status", "log", "error"
]
"""`samples_skipped` ({count, first_id, last_id, first_step, last_step}) stands for sample
frames a lagging client was not sent; GET /api/samples has them."""
ControlAction = Literal["pause", "resume", "checkpoint", "stop"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def format_duration(seconds: float | None) -> str:
    """`1h05m`, `2m03s`, `41s`, or `–` when unknown."""
    if seconds is None or seconds < 0 or seconds != seconds:
        return "–"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress(_Wire):
    """Start-up work a person waits on: what it is, how far it got, how long is left."""

    what: str
    """`loading model`, `building warm start`, `starting sandbox`, ..."""
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None
    """Seconds left at the rate so far; None until it can be estimated."""

    def line(self) -> str:
        """`building warm start 531/600, ETA 2m05s` (the CLI, the status and the TUI say this)."""
        text = self.what
        if self.done is not None and self.total:
            text += f" {self.done}/{self.total}"
        if self.eta_s is not None:
            text += f", ETA {format_duration(self.eta_s)}"
        return text


class Status(_Wire):
    """What `GET /api/status` returns and `status` events carry."""

    run: str
    """Run name (the run directory's name)."""
    state: RunState
    step: int
    """Optimizer steps completed."""
    total_steps: int
    phase: str
    """What the trainer is doing now (`Trainer.state.phase`): `idle`, `generating`, `scoring`,
    `training`, `checkpointing`, `done`; `loading` while the daemon builds the trainer (model,
    and the quickstart's warm start on its first start)."""
    algorithm: str
    model: str
    device: str
    isolation: str
    """Sandbox isolation level in force."""
    eta_s: float | None = None
    started_at: float
    """Unix time the daemon started."""
    last_checkpoint: str | None = None
    ratings: int = 0
    """Ratings stored for this run."""
    settings: Settings
    progress: Progress | None = None
    """What the daemon is doing while it builds the trainer (state `starting`, or `paused`
    when started with `--paused`); None once the trainer exists."""


KL_COEF_MAX = 10.0
KL_TARGET_MAX = 100.0
TEMPERATURE_MAX = 5.0
WEIGHT_MAX = 100.0

KlCoef = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""KL weight beta, finite, >= 0 (the adaptive controller's current value when it is on)."""
KlTarget = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""Target KL of the adaptive controller, finite, > 0."""
Temperature = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""Sampling temperature, finite, > 0."""
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""A reward source's weight, finite, >= 0 (0: the source is off)."""


class SettingsError(ValueError):
    """A settings change this run cannot take; `field` names the setting (dotted)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Settings(_Wire):
    """Live settings: journalled into the run and its checkpoints when changed."""

    kl_coef: KlCoef
    kl_target: KlTarget | None = None
    """Target KL for the adaptive controller; None means a fixed `kl_coef`."""
    reward_weights: dict[str, Weight]
    temperature: Temperature


_Strict = ConfigDict(extra="forbid", use_attribute_docstrings=True, strict=True)
SourceName = Annotated[str, Field(min_length=1, max_length=64)]


class SettingsPatch(_Wire):
    """Body of `PATCH /api/settings` and `Trainer.apply_settings`: any subset of the settings;
    fields left None are unchanged, sources not named in `reward_weights` keep their weight.
    Every value is finite (NaN and infinities refused) and bounded; `check` adds what depends
    on the run. Strict: a string or `true` is a 422 naming the field, never coerced."""

    model_config = _Strict

    kl_coef: Annotated[KlCoef, Field(le=KL_COEF_MAX)] | None = None
    """0 to 10."""
    kl_target: Annotated[KlTarget, Field(le=KL_TARGET_MAX)] | None = None
    """Above 0, at most 100."""
    reward_weights: dict[SourceName, Annotated[Weight, Field(le=WEIGHT_MAX)]] | None = Field(
        None, max_length=32
    )
    """0 to 100 each."""
    temperature: Annotated[Temperature, Field(le=TEMPERATURE_MAX)] | None = None
    """Above 0, at most 5."""

    def check(self, *, sources: set[str], has_reference: bool, adaptive_kl: bool) -> None:
        """Raise `SettingsError` if this run cannot take the change: the one place these rules
        live (the daemon answers 422 with the error's field, the trainer refuses it)."""
        for name in sorted(self.reward_weights or {}):
            if name not in sources:
                raise SettingsError(
                    f"reward_weights.{name}",
                    f"reward_weights: unknown source {name!r}; this run has {sorted(sources)}",
                )
        if self.kl_coef is not None and self.kl_coef > 0 and not has_reference:
            raise SettingsError(
                "kl_coef",
                "kl_coef > 0 needs a reference model; start the run with kl.coef > 0 "
                "(or LoRA) to change it live",
            )
        if self.kl_target is not None and not adaptive_kl:
            raise SettingsError(
                "kl_target",
                "kl_target applies to the adaptive KL controller; start the run with "
                "kl.adaptive: true",
            )


class RatingIn(_Wire):
    """Body of `POST /api/ratings`: a 1–5 score of one sample, or an A/B preference.

    `id` is chosen by the client (a UUID): posting the same rating twice stores it once.
    """

    model_config = _Strict  # `true` is not a 1-star score, nor "3" a 3

    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    sample_id: str | None = Field(None, max_length=200)
    score: int | None = Field(None, ge=1, le=5)
    chosen_id: str | None = Field(None, max_length=200)
    rejected_id: str | None = Field(None, max_length=200)
    comment: str = Field("", max_length=4000)
    rater: str = Field("anonymous", min_length=1, max_length=100)
    confirm_flags: list[Annotated[str, Field(pattern=r"^[a-z_:]{1,64}$")]] = Field(
        default_factory=list, max_length=16
    )
    """Flags of the rated sample (a preference: of the rejected one) that the rater confirms
    as reward hacking; each becomes a penalty for the rest of the run. Empty: none."""

    @model_validator(mode="after")
    def _one_kind(self) -> RatingIn:
        scored = self.sample_id is not None or self.score is not None
        preferred = self.chosen_id is not None or self.rejected_id is not None
        if scored == preferred:
            raise ValueError(
                "give either sample_id and score (a 1-5 rating) "
                "or chosen_id and rejected_id (an A/B preference)"
            )
        if scored and (self.sample_id is None or self.score is None):
            raise ValueError("a score rating needs both sample_id and score")
        if preferred and (self.chosen_id is None or self.rejected_id is None):
            raise ValueError("a preference needs both chosen_id and rejected_id")
        if preferred and self.chosen_id == self.rejected_id:
            raise ValueError("chosen_id and rejected_id must be different samples")
        return self

    @property
    def kind(self) -> Literal["score", "preference"]:
        return "score" if self.score is not None else "preference"


class Rating(RatingIn):
    """A stored rating, as the daemon returns it; the trainer takes `RatingIn` or `Rating` as
    they are (no conversion: a preference keeps `chosen_id`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    created_at: float
    step: int
    """The trainer's step when the rating was stored."""


class Event(_Wire):
    """One websocket frame of `/api/events`."""

    v: int = EVENT_VERSION
    id: int
    """Increases by one per frame on a daemon; a client resumes with `?since=<id>`."""
    type: EventType
    data: dict[str, Any]


class ErrorDetail(_Wire):
    code: str
    """Stable machine-readable code: `unauthorized`, `not_found`, `invalid`, ..."""
    message: str
    field: str | None = None


class ErrorBody(_Wire):
    error: ErrorDetail


Status.model_rebuild()
