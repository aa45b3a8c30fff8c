"""The one place that builds a sandbox from the `reward.execution` config section.

`make_executor(cfg, cache)` starts the backend `cfg.backend` names: local lanes (`Executor`)
or Ray actors each running them (`RayExecutor`). `cfg` is read by attribute only (any object
with the fields of `config.train.ExecutionRewardConfig`), so this package imports no config.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from rlaif_tui._reward import RewardCache

UID_BASE = 61000
RANK_UID_STRIDE = 1024
"""Sandbox uids set aside per data-parallel rank on one machine."""


class ExecutionSettings(Protocol):
    """The fields `make_executor` reads (read-only, so a Literal-typed config field fits)."""

    @property
    def workers(self) -> int: ...
    @property
    def timeout_s(self) -> float: ...
    @property
    def memory_mb(self) -> int: ...
    @property
    def isolation_floor(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def ray_actors(self) -> int: ...
    @property
    def ray_address(self) -> str | None: ...


def rank_uid_base() -> int:
    """Ranks on one machine (torchrun sets LOCAL_RANK) must not share sandbox uids, which carry
    the process budgets."""
    return UID_BASE + RANK_UID_STRIDE * int(os.environ.get("LOCAL_RANK", "0"))


def make_executor(cfg: ExecutionSettings, cache: RewardCache | None = None) -> Any:
    """The sandbox `cfg.backend` names, with this rank's uid range."""
    uid_base = rank_uid_base()
    if cfg.backend == "ray":
        from rlaif_tui.reward.ray_executor import RayExecutor

        return RayExecutor(
            workers=cfg.workers,
            timeout_s=cfg.timeout_s,
            memory_mb=cfg.memory_mb,
            actors=cfg.ray_actors,
            address=cfg.ray_address,
            isolation_floor=cfg.isolation_floor,
            uid_base=uid_base,
        )
    from rlaif_tui.reward.executor import Executor

    return Executor(
        workers=cfg.workers,
        timeout_s=cfg.timeout_s,
        memory_mb=cfg.memory_mb,
        isolation_floor=cfg.isolation_floor,
        cache=cache,
        uid_base=uid_base,
    )
