"""`Executor`: runs jobs in sandbox lanes (Rust threads, one zygote and one trusted harness per
lane; see reward_rs/src/sandbox/mod.rs for what is and is not guarded against)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import rlaif_tui
from rlaif_tui import _reward
from rlaif_tui.reward.background import BackgroundRuns, JobLike, checked_jobs
from rlaif_tui.reward.outcome import Outcome


class Executor(BackgroundRuns):
    """Start sandbox lanes once, then run batches of jobs; outcomes come back in input order.

    With `cache` (a `_reward.RewardCache`, e.g. loaded from a run dir's `reward_cache.bin`),
    an identical job (same code, tests, limits and interpreter) reuses a settled outcome
    (`Outcome.cached`); timeouts, kills, set-up failures and runs over half the time limit are
    never stored. Identical jobs within a batch always run once.

    Run as root, lane i's children run as uid = gid = `uid_base + i`; executors that must not
    share a process budget (two trainers on one machine) take different `uid_base`s.

    A failing, crashing or timed-out program is an `Outcome`; exceptions (`_reward.RewardError`
    subclasses) mean broken set-up, e.g. `IsolationError` when this machine cannot give
    `isolation_floor` ("full", "partial", "minimal" or "none").
    """

    def __init__(
        self,
        workers: int = 2,
        timeout_s: float = 5.0,
        memory_mb: int = 256,
        *,
        output_bytes: int = 1 << 20,
        nproc: int = 64,
        nofile: int = 64,
        fsize_mb: int = 16,
        disk_mb: int = 64,
        isolation_floor: str = "full",
        tail_bytes: int = 4096,
        cache: _reward.RewardCache | None = None,
        uid_base: int = 61000,
    ) -> None:
        self.timeout_s = timeout_s
        self._core: _reward.Executor | None = _reward.Executor(
            python=sys.executable,
            package_root=str(Path(rlaif_tui.__file__).resolve().parent.parent),
            workers=workers,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            output_bytes=output_bytes,
            nproc=nproc,
            nofile=nofile,
            fsize_mb=fsize_mb,
            disk_mb=disk_mb,
            isolation_floor=isolation_floor,
            tail_bytes=tail_bytes,
            cache=cache,
            interpreter=f"{sys.executable} {sys.version}",
            uid_base=uid_base,
        )
        self.cache = cache
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rlaif-reward")

    @property
    def core(self) -> _reward.Executor:
        if self._core is None:
            raise _reward.ExecutorClosedError("the executor is closed")
        return self._core

    @property
    def isolation(self) -> str:
        return self.core.isolation

    @property
    def protections(self) -> dict[str, Any]:
        prot: dict[str, Any] = json.loads(self.core.protections)
        return prot

    @property
    def missing(self) -> list[str]:
        return self.core.missing

    def run(self, jobs: Iterable[JobLike]) -> list[Outcome]:
        """Run a batch; the GIL is released while the lanes work."""
        slots, valid = checked_jobs(jobs)
        results = self.core.run([j.to_json() for j in valid]) if valid else []
        return [s if isinstance(s, Outcome) else Outcome.from_json(results[s]) for s in slots]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._core is not None:
            self._core.close()
            self._core = None
