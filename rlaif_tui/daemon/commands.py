"""What the API asks of the trainer (a checkpoint, new settings), run by the training thread
between steps.

The event loop queues a function of the trainer with a future and waits for it at most
`wait_s`; the training thread runs the queue at the next step boundary and answers each
future. A command the run never got to fails with `RunOver`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlaif_tui.daemon.disk import disk_error
from rlaif_tui.daemon.errors import ApiFailure
from rlaif_tui.daemon.store import StorageFull

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer

Command = Callable[["Trainer"], Any]


class RunOver(RuntimeError):
    """The training thread ended before it ran a command."""


class CommandQueue:
    """`submit` on the event loop; `run` and `cancel` on the training thread.

    `cond` is the run's condition: a queued command wakes the training thread through it.
    """

    def __init__(self, cond: threading.Condition) -> None:
        self._cond = cond
        self._queued: list[tuple[Command, concurrent.futures.Future[Any]]] = []  # under `cond`

    @property
    def waiting(self) -> bool:
        """Whether commands wait for the next step boundary (read under `cond`)."""
        return bool(self._queued)

    async def submit(self, fn: Command, wait_s: float) -> bool:
        """Queue `fn`; True once it ran, False if it has not within `wait_s` (it still will).
        Its failure is an `ApiFailure`: 409 run over, 507 disk full, 422 invalid."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            self._queued.append((fn, future))
            self._cond.notify_all()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait_s)
        except TimeoutError:
            return False
        except RunOver as exc:
            raise ApiFailure(409, "run_over", str(exc)) from None
        except StorageFull as exc:
            raise ApiFailure(507, "disk_full", str(exc)) from None
        except ValueError as exc:
            raise ApiFailure(422, "invalid", str(exc)) from None
        return True

    def run(self, trainer: Trainer, run_dir: Path, done: Callable[[], None]) -> bool:
        """Run the queued commands; `done` follows each one that succeeded, before its caller
        hears of it. A disk error fails the command, any other error ends the run. Whether any
        command was queued."""
        with self._cond:
            queued, self._queued = self._queued, []
        for fn, future in queued:
            try:
                fn(trainer)
            except ValueError as exc:
                future.set_exception(exc)
                continue
            except Exception as exc:
                reason = disk_error(exc, run_dir)
                if reason is None:
                    raise
                future.set_exception(StorageFull(f"not done: the disk failed ({reason})"))
                continue
            done()
            future.set_result(None)
        return bool(queued)

    def cancel(self) -> None:
        """The run is over: every queued command fails with `RunOver`."""
        with self._cond:
            for _, future in self._queued:
                future.set_exception(RunOver("the run stopped before it got to this"))
            self._queued = []
