"""Build the reward sources a config names (`reward.weights`): the one place they are made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.scoring.sources.base import RewardSource

Log = Callable[[str, str], None]


def build_sources(
    cfg: TrainConfig, executor: Any = None, log: Log | None = None
) -> list[RewardSource]:
    """One source per name in `reward.weights`, each built once per run. `executor` is the
    sandbox the execution source uses (default: `reward.factory.make_executor` builds one)."""
    weights = cfg.reward.weights
    out: list[RewardSource] = []
    if "execution" in weights:
        from rlaif_tui.scoring.sources.execution import ExecutionSource

        out.append(ExecutionSource(cfg.reward.execution, executor))
    if "syntax" in weights:
        from rlaif_tui.scoring.sources.syntax import SyntaxSource

        out.append(SyntaxSource())
    if "judge" in weights:
        from rlaif_tui.scoring.sources.judge import JudgeSource

        assert cfg.reward.judge is not None  # checked by RewardConfig
        out.append(JudgeSource(cfg.reward.judge, log=log))
    if "style" in weights:
        from rlaif_tui.scoring.sources.style import StyleSource

        out.append(StyleSource(cfg.reward.style))
    if "rm" in weights:
        out.append(_rm_source(cfg))
    return out


def _rm_source(cfg: TrainConfig) -> RewardSource:
    from rlaif_tui.feedback.reward_model import RewardModel
    from rlaif_tui.feedback.rm_train import load_preference_files
    from rlaif_tui.scoring.sources.rm import RewardModelSource

    rm_cfg = cfg.reward.rm
    if rm_cfg.path is not None:
        model = RewardModel.load(rm_cfg.path)
    else:
        base = rm_cfg.base or cfg.model.name
        model = RewardModel.from_backbone(str(base), rm_cfg.max_length, rm_cfg.seed)
    source = RewardModelSource(model, rm_cfg, load_preference_files(rm_cfg.pairs))
    if rm_cfg.pairs:
        source.fit()
    return source
