"""The daemon runner's two hand-overs to the training thread, on real threads: API commands
(`daemon.commands.CommandQueue`) and ratings (`daemon.handover.RatingHandOver`).

The trainer side is a small recorder: these parts only call `add_ratings` on it or pass it to
the queued function. The same paths with the real trainer run in `test_daemon_live.py`,
`test_daemon_disk.py` and `test_tui_rating_landing.py`.
"""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui.api.models import Rating
from rlaif_tui.daemon.commands import CommandQueue
from rlaif_tui.daemon.errors import ApiFailure
from rlaif_tui.daemon.handover import RatingHandOver, hand_over_stored

WAIT_S = 10.0


class Recorder:
    """Stands where the trainer stands: takes ratings, optionally blocking until released."""

    def __init__(self, block: threading.Event | None = None) -> None:
        self.ratings: dict[str, Rating] = {}
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.block = block

    def add_ratings(self, ratings: list[Rating]) -> None:
        self.entered.set()
        if self.block is not None:
            assert self.block.wait(WAIT_S)
        self.calls.append([r.id for r in ratings])
        for r in ratings:
            self.ratings[r.id] = r


def rating(n: int) -> Rating:
    return Rating(id=f"rating-{n:04d}", sample_id=f"s-{n}", score=4, created_at=0.0, step=1)


async def queued(q: CommandQueue) -> None:
    deadline = time.monotonic() + WAIT_S
    while not q.waiting:
        assert time.monotonic() < deadline, "the command was never queued"
        await asyncio.sleep(0.01)


async def run_between_steps(q: CommandQueue, trainer: Any, run_dir: Path) -> list[str]:
    """Wait for a queued command, then run the queue on another thread, as the trainer does."""
    await queued(q)
    done: list[str] = []
    await asyncio.to_thread(q.run, trainer, run_dir, lambda: done.append("done"))
    return done


async def test_a_command_runs_at_the_boundary_and_done_comes_first(tmp_path: Path) -> None:
    q = CommandQueue(threading.Condition())
    seen: list[Any] = []
    submitted = asyncio.create_task(q.submit(seen.append, WAIT_S))
    done = await run_between_steps(q, "the trainer", tmp_path)
    assert await submitted is True
    assert seen == ["the trainer"]
    assert done == ["done"]
    assert not q.waiting


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValueError("kl_coef needs a reference model"), 422, "invalid"),
        (OSError(errno.ENOSPC, "No space left on device"), 507, "disk_full"),
    ],
)
async def test_a_failed_command_is_an_api_failure_and_the_run_goes_on(
    tmp_path: Path, error: Exception, status: int, code: str
) -> None:
    q = CommandQueue(threading.Condition())

    def fails(trainer: Any) -> None:
        raise error

    submitted = asyncio.create_task(q.submit(fails, WAIT_S))
    done = await run_between_steps(q, object(), tmp_path)
    with pytest.raises(ApiFailure) as caught:
        await submitted
    assert (caught.value.status, caught.value.code) == (status, code)
    assert done == []  # no settings/checkpoint refresh for a command that did not happen


async def test_any_other_error_ends_the_run(tmp_path: Path) -> None:
    q = CommandQueue(threading.Condition())

    def broken(trainer: Any) -> None:
        raise KeyError("a bug")

    submitted = asyncio.create_task(q.submit(broken, 0.5))
    with pytest.raises(KeyError):
        await run_between_steps(q, object(), tmp_path)
    # The run fails (the runner's `_main` reports it); its caller hears "not done yet".
    assert await submitted is False


async def test_a_slow_command_answers_false_and_still_runs(tmp_path: Path) -> None:
    q = CommandQueue(threading.Condition())
    seen: list[Any] = []
    assert await q.submit(seen.append, 0.05) is False
    assert q.waiting
    await run_between_steps(q, "late", tmp_path)
    assert seen == ["late"]


async def test_commands_left_when_the_run_ends_are_run_over() -> None:
    q = CommandQueue(threading.Condition())
    submitted = asyncio.create_task(q.submit(lambda t: None, WAIT_S))
    await queued(q)
    q.cancel()
    with pytest.raises(ApiFailure) as caught:
        await submitted
    assert (caught.value.status, caught.value.code) == (409, "run_over")
    assert not q.waiting


def test_without_a_hold_a_rating_waits_for_the_step_boundary() -> None:
    cond = threading.Condition()
    handover = RatingHandOver(cond)
    woke: list[bool] = []

    def training_thread() -> None:
        with cond:
            woke.append(cond.wait_for(lambda: handover.waiting, WAIT_S))

    waiter = threading.Thread(target=training_thread)
    waiter.start()
    handover.deliver(rating(1))
    waiter.join(WAIT_S)
    assert woke == [True]
    assert [r.id for r in handover.take()] == ["rating-0001"]
    assert not handover.waiting
    assert handover.take() == []


def test_during_a_hold_a_rating_goes_to_the_trainer_at_once() -> None:
    handover = RatingHandOver(threading.Condition())
    trainer = Recorder()
    handover.hold(trainer)  # type: ignore[arg-type]
    handover.deliver(rating(1))
    assert list(trainer.ratings) == ["rating-0001"]
    assert not handover.waiting
    handover.release()
    handover.deliver(rating(2))
    assert list(trainer.ratings) == ["rating-0001"]
    assert [r.id for r in handover.take()] == ["rating-0002"]


def test_release_waits_for_a_rating_being_handed_over() -> None:
    """The training thread must not go on with the update while a rating is half handed over."""
    handover = RatingHandOver(threading.Condition())
    go_on = threading.Event()
    trainer = Recorder(block=go_on)
    handover.hold(trainer)  # type: ignore[arg-type]
    delivering = threading.Thread(target=handover.deliver, args=(rating(1),))
    delivering.start()
    assert trainer.entered.wait(WAIT_S)
    released = threading.Event()
    releasing = threading.Thread(target=lambda: (handover.release(), released.set()))
    releasing.start()
    assert not released.wait(0.2), "release returned while add_ratings was still running"
    go_on.set()
    assert released.wait(WAIT_S)
    delivering.join(WAIT_S)
    releasing.join(WAIT_S)
    assert list(trainer.ratings) == ["rating-0001"]


def test_a_resumed_trainer_gets_only_the_ratings_it_lacks() -> None:
    trainer = Recorder()
    trainer.ratings["rating-0001"] = rating(1)
    hand_over_stored(trainer, [rating(1), rating(2), rating(3)])  # type: ignore[arg-type]
    assert trainer.calls == [["rating-0002", "rating-0003"]]
    hand_over_stored(trainer, [rating(1), rating(2)])  # type: ignore[arg-type]
    assert len(trainer.calls) == 1  # nothing missing: no call
