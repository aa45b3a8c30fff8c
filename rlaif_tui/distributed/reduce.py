"""Loss normalisation and metric reduction across ranks, so N processes report and optimise
what one process would on the whole batch.

Loss: every aggregation divides a sum by a normaliser (`algos.grpo.aggregate`): the token
count for DAPO's token-mean and PPO, the number of sequences for GRPO's sequence-mean,
Dr. GRPO and RLOO. A rank's loss over its rows is local_sum / local_norm; multiplied by
`share = local_norm / global_norm` it becomes local_sum / global_norm, and these sum over
ranks to the one-process loss exactly. DDP averages gradients, so the backward pass uses
`share * world_size`.

Metrics (the rule for each key, applied on every rank so all ranks log the same numbers):
- keys the trainer already scaled by `share` (losses, token means) are summed;
- keys that are the same on every rank (from gathered rewards or synchronised gradients)
  keep rank 0's value;
- `time/*` take the slowest rank's value (a step lasts as long as its slowest rank);
- `throughput/*` and the counters `sandbox/timeouts`, `sandbox/errors` are summed;
- everything else is a mean over ranks weighted by each rank's number of completions (the
  same as the mean over all completions, since each is a per-completion mean).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from torch import Tensor

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.distributed.context import DistContext

SUMMED_COUNTERS = frozenset({"sandbox/timeouts", "sandbox/errors"})


def local_normaliser(cfg: TrainConfig, mask: Tensor) -> float:
    """The denominator of this rank's loss over the rows of `mask` (N, T)."""
    rows = float(mask.shape[0])
    tokens = float(mask.sum())
    if cfg.algorithm == "grpo":
        if cfg.grpo.loss_type == "dapo":
            return tokens
        return rows  # `grpo` (sequence mean) and `dr_grpo` (rows x max_new_tokens)
    if cfg.algorithm == "rloo":
        return rows
    return tokens  # ppo: masked means over tokens


def shares(ctx: DistContext, cfg: TrainConfig, mask: Tensor) -> tuple[float, float]:
    """(loss share, token share) of this rank for one (mini)batch; (1, 1) in one process."""
    if not ctx.enabled:
        return 1.0, 1.0
    norm, tokens = local_normaliser(cfg, mask), float(mask.sum())
    total_norm, total_tokens = ctx.all_sum([norm, tokens])
    loss_share = norm / total_norm if total_norm else 1.0 / ctx.world_size
    token_share = tokens / total_tokens if total_tokens else 1.0 / ctx.world_size
    return loss_share, token_share


def combine(
    per_rank: list[tuple[Mapping[str, float], float]],
    summed: Iterable[str] = (),
    same: Iterable[str] = (),
) -> dict[str, float]:
    """Reduce each rank's (metrics, completions) by the rules in the module docstring."""
    summed = set(summed) | SUMMED_COUNTERS
    same = set(same)
    keys: list[str] = []
    for metrics, _ in per_rank:
        keys += [k for k in metrics if k not in keys]
    out: dict[str, float] = {}
    for key in keys:
        have = [(m[key], w) for m, w in per_rank if key in m]
        values = [v for v, _ in have]
        if key in same:
            out[key] = float(values[0])
        elif key in summed or key.startswith("throughput/"):
            out[key] = float(sum(values))
        elif key.startswith("time/"):
            out[key] = float(max(values))
        else:
            weight = sum(w for _, w in have)
            out[key] = (
                float(sum(v * w for v, w in have) / weight)
                if weight
                else float(sum(values) / len(values))
            )
    return out


def reduce_metrics(
    ctx: DistContext,
    metrics: Mapping[str, float],
    completions: float,
    summed: Iterable[str] = (),
    same: Iterable[str] = (),
) -> dict[str, float]:
    """Every rank gets the same reduced metrics (one all-gather of small dicts)."""
    if not ctx.enabled:
        return dict(metrics)
    return combine(ctx.all_gather((dict(metrics), float(completions))), summed, same)
