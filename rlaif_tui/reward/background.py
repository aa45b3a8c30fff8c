"""What both executors (`Executor`, `RayExecutor`) add around their `run`: a batch in the
background on their one-thread pool, the same awaited, and `with` closing them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

from rlaif_tui.reward.job import Job
from rlaif_tui.reward.outcome import Outcome

JobLike = Job | Mapping[str, Any]


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
