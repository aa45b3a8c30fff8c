"""What data-parallel training supports, checked before any rank loads a model.

Supported: GRPO, RLOO and PPO with any stateless reward source (execution, syntax, style,
judge, a fixed reward model), dynamic sampling, self-repair and the curriculum. Refused, with
what to do instead: online DPO (its update is not under DDP), human ratings and the teacher
(both keep per-run state that only rank 0 would see), and a reward model retrained mid-run.
"""

from __future__ import annotations

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.distributed.context import DistContext


def check_config(cfg: TrainConfig, ctx: DistContext) -> None:
    """Raise ValueError naming the field when `cfg` cannot run on `ctx.world_size` ranks."""
    if not ctx.enabled:
        return
    world = ctx.world_size
    prompts = cfg.rollout.prompts_per_step
    if prompts % world:
        raise ValueError(
            f"rollout.prompts_per_step={prompts} is not a multiple of the {world} ranks: a group "
            "never splits across ranks, so each rank needs the same number of whole groups"
        )
    local = prompts // world
    if cfg.grpo.minibatches > local:
        raise ValueError(
            f"grpo.minibatches={cfg.grpo.minibatches} exceeds the {local} groups per rank "
            f"(rollout.prompts_per_step / {world} ranks); lower it"
        )
    refused = {
        "algorithm: dpo": cfg.algorithm == "dpo",
        "reward.weights.human > 0": cfg.reward.weights.get("human", 0.0) > 0,
        "teacher.enabled": cfg.teacher.enabled,
        "reward.rm.refresh_every > 0": cfg.reward.rm.refresh_every > 0,
    }
    named = [name for name, bad in refused.items() if bad]
    if named:
        raise ValueError(
            f"{', '.join(named)}: not supported with {world} ranks yet (see docs/scale-out.md); "
            "run it in one process"
        )
