"""The live settings a daemon reports (`Status.settings`): the config's before the trainer
exists, the trainer's (its KL controller, weights, temperature) once it does, and what they
will be once a queued patch is applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlaif_tui.api.models import Settings, SettingsPatch
from rlaif_tui.config.train import TrainConfig

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer


def settings_of(cfg: TrainConfig) -> Settings:
    return Settings(
        kl_coef=cfg.kl.coef,
        kl_target=cfg.kl.target if cfg.kl.adaptive else None,
        reward_weights=dict(cfg.reward.weights),
        temperature=cfg.rollout.temperature,
    )


def trainer_settings(trainer: Trainer) -> Settings:
    from rlaif_tui.algos.kl import AdaptiveKLController  # torch: only once a trainer exists

    ctl = trainer.kl_ctl
    return Settings(
        kl_coef=float(ctl.coef),
        kl_target=float(ctl.target) if isinstance(ctl, AdaptiveKLController) else None,
        reward_weights=dict(trainer.weights),
        temperature=float(trainer.temperature),
    )


def patched(settings: Settings, patch: SettingsPatch) -> Settings:
    """`settings` with `patch` applied (`reward_weights` merged source by source)."""
    merged = settings.model_dump()
    for key, value in patch.model_dump(exclude_none=True).items():
        merged[key] = {**merged[key], **value} if key == "reward_weights" else value
    return Settings.model_validate(merged)
