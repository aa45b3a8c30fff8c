"""The trainer on its own thread, steered from the event loop between steps.

The training thread owns the `Trainer`: it builds it, runs `step()`, and between steps runs
what the API asked for (settings, checkpoints) and hands over the ratings that came in. The
event loop never calls the trainer; it reads the small state this object publishes and gets
results back through futures. What the trainer reports (metrics, samples, logs, phases) goes
to the loop with `call_soon_threadsafe`, where this object keeps it and the hub fans it out.

Ratings normally reach the trainer between steps. While a step holds its scored batch open
for ratings (`reward.human.hold_s`), they are handed over at once, under a lock the training
thread takes before it goes on with the update, so they count for that batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlaif_tui.api.models import (
    Progress,
    Rating,
    RunState,
    Settings,
    SettingsError,
    SettingsPatch,
    Status,
)
from rlaif_tui.api.samples import Sample, SampleIndex
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.daemon.disk import disk_error
from rlaif_tui.daemon.disk_pause import recover_step, wait_for_disk
from rlaif_tui.daemon.errors import ApiFailure
from rlaif_tui.daemon.hub import EventHub
from rlaif_tui.daemon.samples import read_samples
from rlaif_tui.daemon.settings_view import patched, settings_of, trainer_settings
from rlaif_tui.daemon.startup import StartupProgress
from rlaif_tui.daemon.store import StorageFull

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Hooks, Trainer

log = logging.getLogger("rlaif.daemon")

SNAPSHOT_METRICS = 500
SNAPSHOT_SAMPLES = 200
SNAPSHOT_RATINGS = 500
RATING_STATUS_S = 0.25
"""Delay of the status frame that carries a new rating count (ratings in between share it)."""
SNAPSHOT_SETTINGS = 200

TrainerFactory = Callable[["Hooks"], "Trainer"]
"""Builds the trainer given its `Hooks` (on the training thread)."""


class RunOver(RuntimeError):
    """The training thread ended before it ran a command."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a kill
    return rows


class Runner:
    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: Path,
        factory: TrainerFactory,
        hub: EventHub,
        loop: asyncio.AbstractEventLoop,
        *,
        paused: bool = False,
        rating_count: int = 0,
        recent_ratings: list[Rating] | None = None,
        stored_ratings: Callable[[], list[Rating]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.factory = factory
        self.hub = hub
        self.loop = loop
        self.started_at = time.time()
        self.stored_ratings = stored_ratings or list
        # read and written on the loop thread
        self.metrics: list[dict[str, Any]] = []
        self.samples = SampleIndex()
        self.rating_count = rating_count
        self.recent_ratings: deque[dict[str, Any]] = deque(
            (r.model_dump(mode="json") for r in recent_ratings or []), maxlen=SNAPSHOT_RATINGS
        )
        # written by the training thread, read anywhere (single assignments)
        self.trainer: Trainer | None = None
        self.step = 0
        self.phase = "idle"
        self.failed: str | None = None
        self.stopped = False
        self.isolation = "unknown"
        self.device: str = cfg.model.device
        self.last_checkpoint: str | None = None
        self.settings = settings_of(cfg)
        self._step_s: deque[float] = deque(maxlen=10)
        self._status_soon: asyncio.TimerHandle | None = None
        self.startup = StartupProgress()
        # shared, under the condition's lock
        self._cond = threading.Condition()
        self.paused = paused
        self.stop_requested = False
        self.io_error: str | None = None
        """Why training waits on the disk (phase `paused_io_error`), or None."""
        self._retry_now = False
        self._commands: list[tuple[Callable[[Trainer], Any], concurrent.futures.Future[Any]]] = []
        self._inbox: list[Rating] = []
        self._feedback_lock = threading.Lock()
        self._holding = False
        self.thread = threading.Thread(target=self._main, name="rlaif-trainer", daemon=True)

    # ----- what the API reads ------------------------------------------------------------

    @property
    def state(self) -> RunState:
        if self.failed is not None:
            return "failed"
        if self.stopped:
            return "stopped"
        if self.stop_requested:
            return "stopping"
        if self.paused or self.io_error is not None:
            return "paused"
        if self.trainer is None:
            return "starting"
        if self.step >= self.cfg.run.steps:
            return "finished"
        return "running"

    def status(self) -> Status:
        remaining = self.cfg.run.steps - self.step
        eta = None
        if self._step_s and self.state == "running":
            eta = remaining * sum(self._step_s) / len(self._step_s)
        return Status(
            run=self.run_dir.name,
            state=self.state,
            step=self.step,
            total_steps=self.cfg.run.steps,
            phase=self.phase,
            algorithm=self.cfg.algorithm,
            model=self.cfg.model.name,
            device=self.device,
            isolation=self.isolation,
            eta_s=eta,
            started_at=self.started_at,
            last_checkpoint=self.last_checkpoint,
            ratings=self.rating_count,
            settings=self.settings,
            progress=self.progress if self.trainer is None and self.failed is None else None,
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status().model_dump(mode="json"),
            "metrics": self.metrics[-SNAPSHOT_METRICS:],
            "samples": self.samples.recent(SNAPSHOT_SAMPLES),
            "ratings": list(self.recent_ratings),
            "settings_changes": read_jsonl(self.run_dir / "settings.jsonl")[-SNAPSHOT_SETTINGS:],
        }

    # ----- control (event loop thread) ---------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def pause(self) -> None:
        self._ensure_not_over("pause")
        with self._cond:
            self.paused = True
            self._cond.notify_all()
        self.publish_status()

    def resume(self) -> None:
        """Resume a paused run; one paused on a disk error retries at once."""
        self._ensure_not_over("resume")
        with self._cond:
            self.paused = False
            self._retry_now = True
            self._cond.notify_all()
        self.publish_status()

    def request_stop(self) -> None:
        with self._cond:
            self.stop_requested = True
            self._cond.notify_all()
        self.publish_status()

    async def checkpoint(self, wait_s: float) -> bool:
        """Checkpoint at the next step boundary; True if it was written within `wait_s`."""
        self._ensure_not_over("checkpoint")
        if self.trainer is None:
            raise ApiFailure(409, "not_ready", "the run is still starting; try again shortly")
        return await self._submit(lambda t: t.save_checkpoint(), wait_s)

    async def update_settings(self, patch: SettingsPatch, wait_s: float) -> tuple[Settings, bool]:
        """Validate `patch` against this run, apply it at the next step boundary; the settings
        in force afterwards and whether they were applied within `wait_s`."""
        trainer = self.trainer
        self._ensure_not_over("change settings of")
        if trainer is None:
            raise ApiFailure(409, "not_ready", "the run is still starting; try again shortly")
        values = patch.model_dump(exclude_none=True)
        self._check_settings(trainer, patch)
        if not values:
            return self.settings, True
        applied = await self._submit(lambda t: t.apply_settings(patch), wait_s)
        if applied:
            return self.settings, True
        return patched(self.settings, patch), False

    def deliver(self, rating: Rating) -> None:
        """Hand a stored rating to the trainer: now during a rating hold, else between steps."""
        with self._feedback_lock:
            trainer = self.trainer
            if self._holding and trainer is not None:
                trainer.add_ratings([rating])
                return
        with self._cond:
            self._inbox.append(rating)
            self._cond.notify_all()

    def rating_stored(self, rating: Rating) -> None:
        self.rating_count += 1
        data = rating.model_dump(mode="json")
        self.recent_ratings.append(data)
        self.hub.publish("rating", data)
        # The new count goes out in one status frame per RATING_STATUS_S, not one per rating:
        # at 50 ratings/s and 200 clients that halves the frames the daemon writes.
        if self._status_soon is None:
            self._status_soon = self.loop.call_later(RATING_STATUS_S, self._rating_status)

    def _rating_status(self) -> None:
        self._status_soon = None
        self.publish_status()

    def publish_status(self) -> None:
        self.hub.publish("status", self.status().model_dump(mode="json"))

    def _ensure_not_over(self, what: str) -> None:
        state = self.state
        if state in ("stopping", "stopped", "failed"):
            raise ApiFailure(409, "run_over", f"cannot {what} the run: it is {state}")

    def _check_settings(self, trainer: Trainer, patch: SettingsPatch) -> None:
        try:
            trainer.check_settings(patch)
        except SettingsError as exc:
            raise ApiFailure(422, "invalid", str(exc), exc.field) from None

    async def _submit(self, fn: Callable[[Trainer], Any], wait_s: float) -> bool:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            self._commands.append((fn, future))
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

    # ----- the training thread -----------------------------------------------------------

    def _to_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the daemon is exiting
            self.loop.call_soon_threadsafe(fn, *args)

    def _hooks(self) -> Hooks:
        from rlaif_tui.train.trainer import Hooks

        return Hooks(
            on_metrics=self._on_metrics,
            on_samples=self._on_samples,
            on_log=self._on_log,
            on_phase=self._on_phase,
            on_progress=self._on_progress,
        )

    def _on_progress(self, what: str, done: int | None, total: int | None) -> None:
        """Start-up progress (training thread): status events, throttled, and log lines."""
        publish, note = self.startup.update(what, done, total)
        if publish:
            self._to_loop(self.publish_status)
        if note and self.progress is not None:
            log.info("starting: %s", self.progress.line())

    @property
    def progress(self) -> Progress | None:
        """What the run is doing while it starts (the last `on_progress` report)."""
        return self.startup.progress

    def _on_metrics(self, step: int, metrics: dict[str, float]) -> None:
        point = {"step": step, "time": time.time(), **metrics}
        self._to_loop(self._metrics_arrived, point)

    def _metrics_arrived(self, point: dict[str, Any]) -> None:
        self.metrics.append(point)
        self.hub.publish("metrics", point)

    def _on_samples(self, records: list[Sample]) -> None:
        if self.phase == "scoring":  # a provisional batch: the trainer now holds for ratings
            with self._feedback_lock:
                self._holding = True
        self._to_loop(self._samples_arrived, [dict(r) for r in records])

    def _samples_arrived(self, records: list[Sample]) -> None:
        self.samples.add(records)
        for rec in records:
            self.hub.publish("sample", rec)

    def _on_log(self, level: str, message: str) -> None:
        getattr(log, level if level in ("info", "warning", "error") else "info")(message)
        self._to_loop(self.hub.publish, "log", {"level": level, "message": message})

    def _on_phase(self, phase: str) -> None:
        if self._holding:
            with self._feedback_lock:  # waits for a rating being handed over right now
                self._holding = False
        self.phase = phase
        self._to_loop(self.publish_status)

    def _main(self) -> None:
        # Loading the model (the quickstart's first start also builds its warm start, minutes
        # on a CPU): the status says so instead of "idle".
        self._on_phase("loading")
        self._on_progress("loading training code", None, None)  # torch and transformers
        try:
            trainer = self.factory(self._hooks())
        except Exception as exc:
            log.exception("the trainer could not start")
            self._fail(f"the trainer could not start: {exc}")
            return
        try:
            self._adopt(trainer)
            self._loop(trainer)
        except Exception as exc:
            log.exception("training failed")
            self._fail(f"training failed at step {trainer.step_count + 1}: {exc}")
        finally:
            self._finish(trainer)

    def _adopt(self, trainer: Trainer) -> None:
        state = trainer.state
        self.phase = state.phase
        self.isolation = state.isolation
        self.device = state.device
        self.step = trainer.step_count
        self._note_checkpoint(trainer)
        self.settings = trainer_settings(trainer)
        metrics = read_jsonl(trainer.run.metrics_path)
        samples = read_samples(trainer.run.samples_path, self.samples.keep)
        missing = [r for r in self.stored_ratings() if r.id not in trainer.ratings]
        if missing:  # stored after the checkpoint the trainer resumed from
            trainer.add_ratings(missing)
            log.info("handed %d stored ratings to the trainer", len(missing))
        self.trainer = trainer
        self._to_loop(self._adopted, metrics, samples)

    def _adopted(self, metrics: list[dict[str, Any]], samples: list[dict[str, Any]]) -> None:
        self.metrics = metrics + self.metrics
        self.samples.add(samples)
        self.publish_status()

    def _loop(self, trainer: Trainer) -> None:
        while True:
            self._between_steps(trainer)
            with self._cond:
                if self.stop_requested:
                    return
                if self.paused or trainer.done or self._commands or self._inbox:
                    if not (self._commands or self._inbox):
                        self._cond.wait(0.5)
                    continue
            self._to_loop(self.publish_status)
            t0 = time.perf_counter()
            before = trainer.step_count
            try:
                result = trainer.step()
            except Exception as exc:
                reason = disk_error(exc, self.run_dir)
                if reason is None:
                    raise
                wait_for_disk(self, reason)
                if trainer.step_count > before:  # the update happened, some writes did not
                    recover_step(self, trainer)
                continue
            self._step_s.append(time.perf_counter() - t0)
            self.step = result.step
            self._note_checkpoint(trainer)
            self.settings = trainer_settings(trainer)
            self._to_loop(self.publish_status)

    def _between_steps(self, trainer: Trainer) -> None:
        with self._cond:
            commands, self._commands = self._commands, []
            ratings, self._inbox = self._inbox, []
        if ratings:
            trainer.add_ratings(ratings)
        for fn, future in commands:
            try:
                fn(trainer)
            except ValueError as exc:
                future.set_exception(exc)
                continue
            except Exception as exc:
                reason = disk_error(exc, self.run_dir)
                if reason is None:
                    raise
                future.set_exception(StorageFull(f"not done: the disk failed ({reason})"))
                continue
            self.settings = trainer_settings(trainer)
            self._note_checkpoint(trainer)
            future.set_result(None)
        if commands:
            self._to_loop(self.publish_status)

    def _finish(self, trainer: Trainer) -> None:
        try:
            step = trainer.step_count
            if self.failed is None and step > 0 and self._checkpointed_step != step:
                trainer.save_checkpoint()
                self._note_checkpoint(trainer)
        except Exception as exc:
            log.exception("the final checkpoint failed")
            self._fail(f"the final checkpoint failed: {exc}")
        finally:
            trainer.close()
            with self._cond:
                for _, future in self._commands:
                    future.set_exception(RunOver("the run stopped before it got to this"))
                self._commands = []
            self.stopped = True
            self._to_loop(self.publish_status)

    def _fail(self, message: str) -> None:
        self.failed = message
        self._to_loop(self.hub.publish, "error", {"level": "error", "message": message})
        self._to_loop(self.publish_status)

    _checkpointed_step: int | None = None

    def _note_checkpoint(self, trainer: Trainer) -> None:
        from rlaif_tui.models.checkpoint import latest_checkpoint

        latest = latest_checkpoint(trainer.run.checkpoints)
        if latest is not None:
            self.last_checkpoint = latest.name
            self._checkpointed_step = int(latest.name.rsplit("-", 1)[1])

    def join(self, timeout_s: float | None = None) -> None:
        self.thread.join(timeout_s)
