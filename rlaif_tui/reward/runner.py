"""Run many sandbox jobs through one executor, a batch at a time (data check, evaluation).

A `Runner` takes job dicts and returns one outcome dict (`Outcome.to_dict()`) per job, in
order. `run_in_batches` feeds it `batch_size` jobs at a time and reports progress, so a long
check or evaluation says how far it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Runner = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
"""Runs sandbox jobs, returning one outcome dict (docs/architecture.md) per job, in order."""


def runner_of(executor: Any) -> Runner:
    """A `Runner` over an executor that is already running (`Executor` or `RayExecutor`)."""

    def run(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [o.to_dict() if hasattr(o, "to_dict") else dict(o) for o in executor.run(jobs)]

    return run


@contextmanager
def executor_runner(
    workers: int = 2, timeout_s: float = 5.0, memory_mb: int = 256
) -> Iterator[Runner]:
    """A `Runner` backed by a new local `Executor`, started once and closed on exit."""
    from rlaif_tui.reward.executor import Executor

    with Executor(workers=workers, timeout_s=timeout_s, memory_mb=memory_mb) as executor:
        yield runner_of(executor)


def run_in_batches(
    run: Runner,
    jobs: list[dict[str, Any]],
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Outcomes of `jobs` in order, `batch_size` at a time through `run` (a sandbox runner),
    reporting (done, total) after each batch; a runner that drops or adds outcomes is an error."""
    outcomes: list[dict[str, Any]] = []
    for start in range(0, len(jobs), batch_size):
        batch = jobs[start : start + batch_size]
        got = run(batch)
        if len(got) != len(batch):
            raise RuntimeError(f"the sandbox returned {len(got)} outcomes for {len(batch)} jobs")
        outcomes += got
        if progress is not None:
            progress(len(outcomes), len(jobs))
    return outcomes
