"""The reward-source interface shared by execution, judge, human, style and reward models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rlaif_tui.data import Problem
from rlaif_tui.feedback.pairs import Pair

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
    """What the trainer and the scoring stage call on a source. Sources inherit `SourceBase`
    for the optional capabilities they do not have (no metrics, no cache, no refits)."""

    name: str
    executor: Any
    """The sandbox executor the source runs programs in (None for sources without one); the
    trainer shares it with the teacher and the in-training evaluation."""

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        """Start scoring; the future resolves to one score per request, in order."""
        ...

    def metrics(self) -> dict[str, float]:
        """This step's `<source>/...` metrics (cleared on reading)."""
        ...

    def refresh(self, pairs: Sequence[Pair]) -> bool:
        """New preference pairs arrived; True if the source refit on them."""
        ...

    def save_cache(self, path: Path) -> None: ...

    def load_cache(self, path: Path) -> None: ...

    def close(self) -> None: ...


class SourceBase:
    """No-op defaults of `RewardSource`'s optional capabilities."""

    executor: Any = None

    def metrics(self) -> dict[str, float]:
        return {}

    def refresh(self, pairs: Sequence[Pair]) -> bool:
        return False

    def save_cache(self, path: Path) -> None:
        pass

    def load_cache(self, path: Path) -> None:
        pass

    def close(self) -> None:
        pass


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
