"""The reward-source interface shared by execution, judge, human, style and reward models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rlaif_tui.data import Problem

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class ScoreRequest:
    """One completion to score."""

    sample_id: str
    problem: Problem
    prompt: str
    completion: str
    program: str
    """The runnable program built from prompt and completion (`train.program`)."""


@dataclass
class SourceScore:
    value: float | None
    """The reward, or None when this source has nothing to say about the sample."""
    outcome: dict[str, Any] | None = None
    """The sandbox `Outcome.to_dict()` (execution source only)."""
    flags: list[str] = field(default_factory=list)
    """Tripwires raised while scoring (e.g. `exit_before_tests`)."""


class RewardSource(Protocol):
    name: str

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        """Start scoring; the future resolves to one score per request, in order."""
        ...

    def close(self) -> None: ...


def chain(fut: Future[T], fn: Callable[[T], U]) -> Future[U]:
    """A future resolving to `fn(fut.result())` (errors propagate)."""
    out: Future[U] = Future()

    def done(f: Future[T]) -> None:
        try:
            out.set_result(fn(f.result()))
        except BaseException as exc:  # handed to whoever waits on `out`
            out.set_exception(exc)

    fut.add_done_callback(done)
    return out
