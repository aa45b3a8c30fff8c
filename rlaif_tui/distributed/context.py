"""Which process this is, and the collectives the trainer needs (torch.distributed).

torchrun and `accelerate launch` both start one process per rank with `RANK`, `WORLD_SIZE`,
`LOCAL_RANK`, `MASTER_ADDR` and `MASTER_PORT` in the environment; `init_from_env` reads them
and joins the process group: NCCL when CUDA is available (one GPU per local rank), gloo on CPU.
Without those variables, or with `WORLD_SIZE=1`, nothing is initialised and every collective
below returns its input.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")

TIMEOUT_ENV = "RLAIF_DIST_TIMEOUT_S"
"""Seconds a collective may wait for the other ranks before the run fails (default 1800)."""
BACKEND_ENV = "RLAIF_DIST_BACKEND"
"""Force `gloo` or `nccl` (default: nccl with CUDA, else gloo)."""


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    backend: str = "none"

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the run directory, prints, and serves the daemon API."""
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        """Where collective tensors live (NCCL reduces CUDA tensors only)."""
        if self.backend == "nccl":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    # ----- sharding ------------------------------------------------------------------------

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of a step's groups: every `world_size`-th, starting at `rank`.

        Strided, so that the j-th minibatch of every rank together is exactly the j-th
        minibatch one process would take (when the counts divide evenly).
        """
        return list(items[self.rank :: self.world_size])

    def slots(self, n: int) -> list[int]:
        """Global positions of this rank's `n` groups in the step's batch (see `shard`)."""
        return [self.rank + self.world_size * j for j in range(n)]

    # ----- collectives ---------------------------------------------------------------------

    def all_sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum over ranks (float64)."""
        if not self.enabled:
            return [float(v) for v in values]
        t = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return [float(v) for v in t.cpu().tolist()]

    def all_max(self, values: Sequence[float]) -> list[float]:
        if not self.enabled:
            return [float(v) for v in values]
        t = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [float(v) for v in t.cpu().tolist()]

    def any_true(self, flag: bool) -> bool:
        """True on every rank when it is true on any (so all ranks raise together)."""
        return self.all_max([1.0 if flag else 0.0])[0] > 0

    def all_gather(self, obj: T) -> list[T]:
        """`obj` from every rank, in rank order (pickled; for small things)."""
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.enabled:
            if self.backend == "nccl":
                dist.barrier(device_ids=[self.local_rank])
            else:
                dist.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (e.g. builds a cache), then the others."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


_current = DistContext()


def current() -> DistContext:
    """The context of this process (world size 1 until `init_from_env` joins a group)."""
    return _current


def is_main_process() -> bool:
    """Whether this process should serve the daemon API, print and write the run directory."""
    return _current.is_main


def init_from_env(environ: dict[str, str] | None = None) -> DistContext:
    """Join the process group described by torchrun's / accelerate's environment variables."""
    global _current
    env = dict(os.environ if environ is None else environ)
    world = int(env.get("WORLD_SIZE", "1"))
    if world <= 1:
        _current = DistContext()
        return _current
    missing = [k for k in ("RANK", "MASTER_ADDR", "MASTER_PORT") if k not in env]
    if missing:
        raise RuntimeError(
            f"WORLD_SIZE={world} but {', '.join(missing)} not set: start the run with torchrun "
            "or accelerate launch, which set them"
        )
    for flag, what in (("ACCELERATE_USE_FSDP", "FSDP"), ("ACCELERATE_USE_DEEPSPEED", "DeepSpeed")):
        if env.get(flag, "").lower() in ("1", "true"):
            raise RuntimeError(
                f"accelerate asked for {what} ({flag}); the trainer runs DDP only: launch with "
                "--multi_gpu (see docs/scale-out.md, FSDP)"
            )
    rank = int(env["RANK"])
    local_rank = int(env.get("LOCAL_RANK", "0"))
    local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)))
    backend = env.get(BACKEND_ENV) or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend not in ("nccl", "gloo"):
        raise RuntimeError(f"{BACKEND_ENV}={backend!r}: use nccl or gloo")
    if backend == "nccl":
        torch.cuda.set_device(local_rank)  # model.device `cuda`/`auto` then means this GPU
    if not dist.is_initialized():
        timeout = timedelta(seconds=float(env.get(TIMEOUT_ENV, "1800")))
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout)
    _current = DistContext(rank, world, local_rank, local_world, backend)
    return _current
