"""`RayExecutor`: the `Executor` API over a Ray cluster, for when one machine's cores cannot run
a step's programs fast enough (`pip install rlaif-tui[ray]`; docs/scale-out.md).

Each Ray actor owns an ordinary local `Executor` (the same Rust sandbox, lanes, limits and
isolation floor) on whichever node Ray places it. A batch is cut into chunks, the chunks go
to the actors round-robin, and the outcomes come back in input order, exactly as
`Executor.run` returns them. Jobs are sent as JSON and outcomes return as JSON, so what a
worker sees is what a local run would see.

Failures: an actor that dies (its node lost, OOM-killed) is restarted by Ray and its chunk
retried (sandbox runs have no side effects outside their scratch dirs); if it still fails, its
jobs come back as `sandbox_error` outcomes (the execution reward then drops out for those
samples) instead of stopping the run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rlaif_tui.reward.background import BackgroundRuns, JobLike, checked_jobs
from rlaif_tui.reward.outcome import Outcome

UID_STRIDE = 64
"""Actors on one node get disjoint sandbox uids (`Executor.uid_base`), 64 lanes apart."""


class SandboxWorker:
    """The body of one Ray actor: a local sandbox `Executor` running JSON jobs."""

    def __init__(self, index: int, options: dict[str, Any]) -> None:
        from rlaif_tui.reward.executor import Executor

        base = int(options.pop("uid_base", 61000))
        self.executor = Executor(uid_base=base + UID_STRIDE * index, **options)

    def run(self, jobs: list[str]) -> list[str]:
        outcomes = self.executor.run(json.loads(j) for j in jobs)
        return [o.to_json() for o in outcomes]

    def describe(self) -> dict[str, Any]:
        ex = self.executor
        return {"isolation": ex.isolation, "protections": ex.protections, "missing": ex.missing}

    def close(self) -> None:
        self.executor.close()


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(
            "reward.execution.backend=ray needs Ray: pip install 'rlaif-tui[ray]'"
        ) from exc
    return ray


class RayExecutor(BackgroundRuns):
    """Same API as `Executor` (`run`, `submit`, `run_async`, `close`, `isolation`), backed by
    `actors` Ray actors each running a local Executor with `workers` lanes."""

    def __init__(
        self,
        workers: int = 2,
        timeout_s: float = 5.0,
        memory_mb: int = 256,
        *,
        actors: int = 2,
        address: str | None = None,
        chunk_size: int = 64,
        cpus_per_actor: float = 1.0,
        isolation_floor: str = "full",
        uid_base: int = 61000,
        **executor_options: Any,
    ) -> None:
        ray = _ray()
        if not ray.is_initialized():
            # No usage report leaves the machine unless the user opts in.
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.timeout_s = timeout_s
        self.chunk_size = max(1, chunk_size)
        options = {
            "workers": workers,
            "timeout_s": timeout_s,
            "memory_mb": memory_mb,
            "isolation_floor": isolation_floor,
            "uid_base": uid_base,
            **executor_options,
        }
        remote = ray.remote(num_cpus=cpus_per_actor, max_restarts=2, max_task_retries=2)(
            SandboxWorker
        )
        self._actors: list[Any] = [remote.remote(i, dict(options)) for i in range(actors)]
        # Fails here (not mid-run) when a node cannot give `isolation_floor`.
        self._described: dict[str, Any] = ray.get(self._actors[0].describe.remote())
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rlaif-ray")
        self.cache = None
        """Each actor keeps its own in-memory reward cache; none is persisted by the run."""

    @property
    def isolation(self) -> str:
        return str(self._described["isolation"])

    @property
    def protections(self) -> dict[str, Any]:
        prot: dict[str, Any] = self._described["protections"]
        return prot

    @property
    def missing(self) -> list[str]:
        return list(self._described["missing"])

    def run(self, jobs: Iterable[JobLike]) -> list[Outcome]:
        """Run a batch across the actors; outcomes in input order."""
        if not self._actors:
            raise RuntimeError("the Ray executor is closed")
        ray = _ray()
        slots, valid = checked_jobs(jobs)
        texts = [j.to_json() for j in valid]
        ids = [j.id for j in valid]
        per = max(1, min(self.chunk_size, -(-len(texts) // len(self._actors))))
        chunks = [(s, texts[s : s + per]) for s in range(0, len(texts), per)]
        refs = [
            self._actors[n % len(self._actors)].run.remote(chunk)
            for n, (_, chunk) in enumerate(chunks)
        ]
        results: list[Outcome] = []
        for (start, chunk), ref in zip(chunks, refs, strict=True):
            try:
                results += [Outcome.from_json(t) for t in ray.get(ref)]
            except ray.exceptions.RayError as exc:
                message = f"ray worker failed: {type(exc).__name__}: {str(exc)[:300]}"
                results += [
                    Outcome(id=ids[start + k], status="sandbox_error", message=message)
                    for k in range(len(chunk))
                ]
        return [s if isinstance(s, Outcome) else results[s] for s in slots]

    def close(self) -> None:
        """Stop the actors (the cluster itself stays up: it may be shared)."""
        self._pool.shutdown(wait=True)
        if self._actors:
            ray = _ray()
            for ref in [a.close.remote() for a in self._actors]:
                with contextlib.suppress(ray.exceptions.RayError):  # dead: nothing to close
                    ray.get(ref)
            for actor in self._actors:
                ray.kill(actor)
            self._actors = []
