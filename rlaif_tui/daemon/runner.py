"""The trainer on its own thread, steered from the event loop between steps.

The training thread owns the `Trainer`: it builds it, runs `step()`, and between steps runs
what the API asked for (settings, checkpoints) and hands over the ratings that came in. The
event loop never calls the trainer; it reads the small state this object publishes and gets
results back through futures. What the trainer reports (metrics, samples, logs, phases) goes
to the loop with `call_soon_threadsafe`, where this object keeps it and the hub fans it out.

Its parts: what the API reads (`status`), the queue of API commands (`commands`), the ratings
on their way to the trainer (`handover`), waiting out a failed disk (`disk_pause`), start-up
progress (`startup`) and the live settings (`settings_view`).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from rlaif_tui.daemon.commands import CommandQueue
from rlaif_tui.daemon.disk import disk_error
from rlaif_tui.daemon.disk_pause import recover_step, wait_for_disk
from rlaif_tui.daemon.errors import ApiFailure
from rlaif_tui.daemon.handover import RatingHandOver, hand_over_stored
from rlaif_tui.daemon.hub import EventHub
from rlaif_tui.daemon.samples import read_samples
from rlaif_tui.daemon.settings_view import patched, settings_of, trainer_settings
from rlaif_tui.daemon.startup import StartupProgress
from rlaif_tui.daemon.status import SNAPSHOT_RATINGS, read_jsonl, run_state, snapshot_of, status_of

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Hooks, Trainer

log = logging.getLogger("rlaif.daemon")

RATING_STATUS_S = 0.25
"""Delay of the status frame that carries a new rating count (ratings in between share it)."""

TrainerFactory = Callable[["Hooks"], "Trainer"]
"""Builds the trainer given its `Hooks` (on the training thread)."""


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
        self.step_s: deque[float] = deque(maxlen=10)
        """The last steps' durations, for the ETA."""
        self._status_soon: asyncio.TimerHandle | None = None
        self.startup = StartupProgress()
        # shared, under the condition's lock
        self._cond = threading.Condition()
        self.paused = paused
        self.stop_requested = False
        self.io_error: str | None = None
        """Why training waits on the disk (phase `paused_io_error`), or None."""
        self._retry_now = False
        self.commands = CommandQueue(self._cond)
        self.handover = RatingHandOver(self._cond)
        self.thread = threading.Thread(target=self._main, name="rlaif-trainer", daemon=True)

    # ----- what the API reads ------------------------------------------------------------

    @property
    def state(self) -> RunState:
        return run_state(self)

    def status(self) -> Status:
        return status_of(self)

    def snapshot(self) -> dict[str, Any]:
        return snapshot_of(self)

    @property
    def progress(self) -> Progress | None:
        """What the run is doing while it starts (the last `on_progress` report)."""
        return self.startup.progress

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
        return await self.commands.submit(lambda t: t.save_checkpoint(), wait_s)

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
        applied = await self.commands.submit(lambda t: t.apply_settings(patch), wait_s)
        if applied:
            return self.settings, True
        return patched(self.settings, patch), False

    def deliver(self, rating: Rating) -> None:
        """Hand a stored rating to the trainer: now during a rating hold, else between steps."""
        self.handover.deliver(rating)

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

    def _on_metrics(self, step: int, metrics: dict[str, float]) -> None:
        point = {"step": step, "time": time.time(), **metrics}
        self._to_loop(self._metrics_arrived, point)

    def _metrics_arrived(self, point: dict[str, Any]) -> None:
        self.metrics.append(point)
        self.hub.publish("metrics", point)

    def _on_samples(self, records: list[Sample]) -> None:
        if self.phase == "scoring":  # a provisional batch: the trainer now holds for ratings
            self.handover.hold(self.trainer)
        self._to_loop(self._samples_arrived, [dict(r) for r in records])

    def _samples_arrived(self, records: list[Sample]) -> None:
        self.samples.add(records)
        for rec in records:
            self.hub.publish("sample", rec)

    def _on_log(self, level: str, message: str) -> None:
        getattr(log, level if level in ("info", "warning", "error") else "info")(message)
        self._to_loop(self.hub.publish, "log", {"level": level, "message": message})

    def _on_phase(self, phase: str) -> None:
        self.handover.release()
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
        hand_over_stored(trainer, self.stored_ratings())
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
                waiting = self.commands.waiting or self.handover.waiting
                if self.paused or trainer.done or waiting:
                    if not waiting:
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
            self.step_s.append(time.perf_counter() - t0)
            self.step = result.step
            self._note_checkpoint(trainer)
            self.settings = trainer_settings(trainer)
            self._to_loop(self.publish_status)

    def _between_steps(self, trainer: Trainer) -> None:
        ratings = self.handover.take()
        if ratings:
            trainer.add_ratings(ratings)

        def done() -> None:  # before the caller hears of it: it answers with these
            self.settings = trainer_settings(trainer)
            self._note_checkpoint(trainer)

        if self.commands.run(trainer, self.run_dir, done):
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
            self.commands.cancel()
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
