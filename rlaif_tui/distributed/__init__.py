"""Data-parallel training across processes (torchrun, `accelerate launch`): one `DistContext`
per process says which rank it is and carries the few collectives the trainer needs.

A single process gets the same object with `world_size == 1`, where every collective is the
identity, so the trainer has one code path. The daemon serves its API from the main process
only: `is_main_process()` is the rule it checks.
"""

from rlaif_tui.distributed.context import DistContext, current, init_from_env, is_main_process

__all__ = ["DistContext", "current", "init_from_env", "is_main_process"]
