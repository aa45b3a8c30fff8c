"""Whole-batch views assembled from every rank's share (small data only: ids and rewards,
sample records), plus the per-host CPU thread split."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.distributed.context import DistContext


def gather_groups(
    ctx: DistContext, indices: Sequence[int], rewards: NDArray[np.float64]
) -> tuple[list[int], NDArray[np.float64]]:
    """Every rank's problem indices and rewards (each group's samples adjacent), rank order."""
    if not ctx.enabled:
        return list(indices), rewards
    parts = ctx.all_gather((list(indices), rewards.tolist()))
    all_indices = [i for idx, _ in parts for i in idx]
    all_rewards = np.asarray([r for _, rs in parts for r in rs], dtype=np.float64)
    return all_indices, all_rewards


def _slot(sample: dict[str, Any]) -> int:
    return int(str(sample["group_id"]).rsplit("-g", 1)[1])


def gather_samples(ctx: DistContext, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every rank's sample records in the batch's group order (rank 0 writes them)."""
    if not ctx.enabled:
        return samples
    merged = [s for part in ctx.all_gather(samples) for s in part]
    return sorted(merged, key=_slot)  # stable: a group's samples keep their order


def split_cpu_threads(ctx: DistContext, cfg: TrainConfig, device: torch.device) -> None:
    """Ranks sharing a CPU host split its cores instead of each taking all of them."""
    if not ctx.enabled or device.type != "cpu" or cfg.model.torch_threads is not None:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // ctx.local_world_size))
