"""Config sections of the feedback features (pydantic only: no torch, aiohttp or pyflakes).

They nest in the training config: `reward.judge`, `reward.rm`, `reward.style`, `reward.human`,
`reward.tripwires`, and top-level `dpo`, `teacher`, `repair`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rlaif_tui.config.judge import JudgeConfig, LimitsConfig, RubricConfig
from rlaif_tui.config.loader import ConfigPath

TeacherTrigger = Literal["no_reference", "all_fail"]


def _all_triggers() -> list[TeacherTrigger]:
    return ["no_reference", "all_fail"]


__all__ = [
    "DPOConfig",
    "HumanConfig",
    "JudgeConfig",
    "LimitsConfig",
    "RepairConfig",
    "RewardModelConfig",
    "RubricConfig",
    "StyleConfig",
    "TeacherConfig",
    "TripwireConfig",
]


class TripwireConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    enabled: bool = True
    """Scan every scored completion for reward-hacking tripwires (flags in the sample record)."""
    penalty_reward: float = -1.0
    """Reward of a sample carrying a flag a person confirmed (below any honest failure)."""


class StyleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    lint_weight: float = Field(0.7, ge=0)
    """Weight of the lint term (1 / (1 + pyflakes findings))."""
    length_weight: float = Field(0.3, ge=0)
    """Weight of the length term."""
    max_chars: int = Field(600, ge=1)
    """Completions up to this long get the full length term; it reaches 0 at twice this."""
    ignore: list[str] = Field(default_factory=lambda: ["UnusedImport"])
    """pyflakes message classes not counted (e.g. `UnusedImport`: prompts import for typing)."""


class HumanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    hold_s: float = Field(0.0, ge=0, le=3600)
    """Seconds to wait after publishing a batch's samples before the update, so ratings can
    still change its rewards (0: never wait; only ratings already in arrive early)."""
    rater_hold_s: float = Field(0.0, ge=0, le=3600)
    """While someone is rating (a rating arrived in the last `rater_hold_s` seconds), a batch
    waits up to this long for a rating of one of its samples, and `hold_s` after each such
    rating, so a person rating at reading speed lands every score in an update (0: off)."""
    keep_samples: int = Field(20_000, ge=100)
    """Recent samples kept in memory to resolve rating ids."""


class RewardModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    base: str | None = None
    """Backbone to start from (hub name or local path); None: the policy's initial weights."""
    path: ConfigPath | None = None
    """A trained reward model directory to load (from `rlaif rm train` or a previous run)."""
    pairs: list[ConfigPath] = Field(default_factory=list)
    """Preference JSONL / rating CSV or JSON files to train on before the run starts."""
    max_length: int = Field(512, ge=8)
    """Tokens kept per (prompt + completion); the prompt is cut from the left when longer."""
    lr: float = Field(1e-4, gt=0)
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(16, ge=1)
    heldout_fraction: float = Field(0.2, ge=0, lt=1)
    """Share of pairs kept out of training to report `rm/heldout_accuracy`."""
    refresh_every: int = Field(0, ge=0)
    """Retrain on the pairs so far after this many new ones arrive during a run (0: never)."""
    seed: int = 0


class DPOConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    loss_type: str = "sigmoid"
    """`sigmoid` (DPO, Rafailov et al. 2023) or `ipo` (Azar et al. 2023)."""
    beta: float = Field(0.1, gt=0)
    """Strength of the implicit KL to the reference (tau for IPO)."""
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)
    """Assumed share of flipped preferences (conservative DPO); sigmoid only."""
    pairs: ConfigPath | None = None
    """Preference JSONL for offline DPO (`rlaif train --algorithm dpo`)."""
    heldout_fraction: float = Field(0.1, ge=0, lt=1)
    """Share of prompts held out to report `dpo/heldout_margin` before and after."""
    epochs: int = Field(1, ge=1)
    """Passes over the pairs (offline)."""
    batch_size: int = Field(8, ge=1)
    """Pairs per optimizer step."""
    max_length: int = Field(1024, ge=8)
    """Tokens kept per prompt + completion (the prompt is cut from the left)."""
    online_pairs: int = Field(1, ge=0)
    """Online DPO: pairs taken from each group per step (best vs worst, then next ones)."""
    online_margin: float = Field(0.1, ge=0)
    """Online DPO: a group gives a pair only if its best and worst rewards differ this much."""

    def check(self) -> None:
        from rlaif_tui.algos import DPO_LOSS_TYPES  # constants only, no torch

        if self.loss_type not in DPO_LOSS_TYPES:
            raise ValueError(
                f"dpo.loss_type {self.loss_type!r} is not one of {', '.join(DPO_LOSS_TYPES)}"
            )


class TeacherConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    enabled: bool = False
    """Ask the teacher (the judge's API, see `reward.judge`) for solutions."""
    solutions_per_problem: int = Field(2, ge=1, le=16)
    """Requests per problem (each may give one solution)."""
    when: list[TeacherTrigger] = Field(default_factory=_all_triggers)
    """Ask for problems without a reference and/or whose whole group failed."""
    max_problems_per_step: int = Field(4, ge=1)
    """Bound on teacher requests a training step may start."""
    pairs_per_problem: int = Field(2, ge=0)
    """DPO pairs (teacher solution, failing policy sample) kept per problem and step."""


class RepairConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    enabled: bool = False
    """Add self-repair groups to each step (off by default)."""
    max_groups: int = Field(2, ge=1)
    """Repair groups added per step at most."""
    critique: bool = False
    """Also show the judge's weakest criterion (needs the judge source)."""
