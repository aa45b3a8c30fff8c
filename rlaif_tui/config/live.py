"""Live settings and ratings: what a running trainer accepts between steps.

Pydantic only (no torch), so the daemon's API layer can use these types directly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Settings(BaseModel):
    """A partial update of live settings; fields left None are unchanged."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    kl_coef: float | None = Field(None, ge=0)
    """KL weight beta (with the adaptive controller: its current value)."""
    kl_target: float | None = Field(None, gt=0)
    """Target KL of the adaptive controller."""
    reward_weights: dict[str, float] | None = None
    """Weights of reward sources by name (sources not named keep their weight)."""
    temperature: float | None = Field(None, gt=0)
    """Sampling temperature for the next rollouts."""


class Rating(BaseModel):
    """A person's judgement of a sample: a 1-5 score, or a preference between two samples."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    id: str = Field(min_length=1)
    """Client-chosen id, so a retried submission is idempotent."""
    kind: Literal["score", "preference"] = "score"
    sample_id: str = Field(min_length=1)
    """The rated sample (for a preference: the chosen one)."""
    score: int | None = Field(None, ge=1, le=5)
    """1 (bad) to 5 (good), for kind `score`."""
    rejected_id: str | None = None
    """The other sample of the same group, for kind `preference`."""
    comment: str = ""
    rater: str = ""
    confirm_flags: list[str] = Field(default_factory=list)
    """Flags of the rated sample (a preference: the rejected one) the rater confirms as reward
    hacking; each becomes a penalty for the rest of the run."""

    @model_validator(mode="after")
    def _complete(self) -> Rating:
        if self.kind == "score" and self.score is None:
            raise ValueError("a score rating needs `score` (1-5)")
        if self.kind == "preference" and not self.rejected_id:
            raise ValueError("a preference rating needs `rejected_id` (the other sample)")
        return self
