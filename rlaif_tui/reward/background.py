"""What both executors (`Executor`, `RayExecutor`) add around their `run`: the jobs checked
before they go out, a batch in the background on their one-thread pool, the same awaited, and
`with` closing them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

from rlaif_tui.reward.job import Job, JobError
from rlaif_tui.reward.outcome import Outcome

JobLike = Job | Mapping[str, Any]


def checked_jobs(jobs: Iterable[JobLike]) -> tuple[list[Outcome | int], list[Job]]:
    """The valid jobs, and per input job in order either its index among them or, for a job
    that is not valid, its `invalid` outcome (named by its id, else by its position)."""
    slots: list[Outcome | int] = []
    valid: list[Job] = []
    for i, job in enumerate(jobs):
        try:
            j = job if isinstance(job, Job) else Job.from_dict(job)
        except JobError as exc:
            raw_id = job.get("id") if isinstance(job, Mapping) else None
            slots.append(Outcome.invalid(str(raw_id or f"#{i}"), str(exc)))
            continue
        slots.append(len(valid))
        valid.append(j)
    return slots, valid


class BackgroundRuns:
    _pool: ThreadPoolExecutor

    def run(self, jobs: Iterable[JobLike]) -> list[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def submit(self, jobs: Iterable[JobLike]) -> Future[list[Outcome]]:
        """Run a batch in the background (e.g. while the trainer runs its forwards)."""
        return self._pool.submit(self.run, list(jobs))

    async def run_async(self, jobs: Iterable[JobLike]) -> list[Outcome]:
        return await asyncio.wrap_future(self.submit(jobs))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
