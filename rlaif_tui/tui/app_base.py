"""The run app's base: what it knows about the daemon and the rating session, the rating
workers (send, follow where a rating landed) and the event stream worker (reconnect, find a
moved daemon, tell a lost one from an exited one). `RlaifApp` (app.py) adds the screens and
the actions.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App

from rlaif_tui.api import ApiError, DaemonClient
from rlaif_tui.tui import messages as m
from rlaif_tui.tui.discover import (
    DemoDaemon,
    Target,
    TargetError,
    pid_alive,
    read_last_exit,
    read_run_dir,
)
from rlaif_tui.tui.feed import EventSource
from rlaif_tui.tui.landing import Landing, held, human_weight
from rlaif_tui.tui.rating_desk import RatingDesk
from rlaif_tui.tui.run_model import RunModel

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 10.0
LANDING_WAIT_S = 600.0
"""How long a held rating's update is awaited to show where it landed."""


class RunApp(App[None]):
    """State shared by the app's parts; `RlaifApp.__init__` sets every field."""

    url: str | None
    client: DaemonClient | None
    feed: EventSource | None
    target: Target | None
    demo: DemoDaemon | None
    model: RunModel
    desk: RatingDesk
    connection: str
    connection_detail: str
    run_config: dict[str, Any] | None
    landing: Landing | None
    _sending: bool
    _landing_due: asyncio.Event
    _retry: asyncio.Event

    @property
    def run_dir(self) -> Path | None:
        return self.target.run_dir if self.target is not None else None

    # -- ratings ---------------------------------------------------------------------------

    def rate_score(self, sample_id: str, score: int, comment: str = "") -> None:
        sample = self.model.samples.get(sample_id) or {"id": sample_id}
        is_held = held(sample, self.model.status) and human_weight(self.model.status) > 0
        rating = self.desk.score(sample_id, score, comment, now=is_held)
        self.landing = Landing(
            rating.id, sample_id, score, int(sample.get("step", 0)), is_held, dict(sample)
        )
        if is_held:
            self.notify(f"scored {score}: sent now, its batch is held for ratings", timeout=2)
        else:
            self.notify(f"scored {score}: u undoes within {self.desk.undo_window_s:g}s", timeout=2)

    def rate_preference(self, chosen_id: str, rejected_id: str, comment: str = "") -> None:
        rating = self.desk.prefer(chosen_id, rejected_id, comment)
        sample = self.model.samples.get(chosen_id) or {"id": chosen_id}
        step = int(sample.get("step", 0))
        self.landing = Landing(rating.id, chosen_id, None, step, False, dict(sample))
        self.notify(
            f"preferred {chosen_id}: u undoes within {self.desk.undo_window_s:g}s", timeout=2
        )

    def undo(self) -> str | None:
        """Undo the newest rating not yet sent (or skip); returns the sample to show again."""
        action, what = self.desk.undo()
        self.notify(what, timeout=3, severity="information" if action else "warning")
        return action.sample_ids[0] if action is not None else None

    def _send_due(self) -> None:
        if self.client is None or self._sending or self.connection != "connected":
            return
        if self.desk.due():
            self._sending = True
            self.send_ratings()

    @work(group="send", exit_on_error=False)
    async def send_ratings(self) -> None:
        """Send due ratings in order; the first connection failure leaves the rest queued."""
        assert self.client is not None
        try:
            for rating in self.desk.due():
                self.desk.in_flight.add(rating.id)
                try:
                    stored = await self.client.rate(rating)
                except ApiError as exc:
                    if exc.status == 0 or exc.status >= 500 or exc.status in (401, 408, 429):
                        return  # kept; sent again with the same id on the next tick
                    self.desk.rejected(rating.id, f"{exc.code}: {exc.message}")
                    self.post_message(m.RatingRejected(rating.id, exc))
                    continue
                finally:
                    self.desk.in_flight.discard(rating.id)
                if self.desk.acknowledged(stored.id):
                    self.post_message(m.RatingAcknowledged(stored))
        finally:
            self._sending = False

    @on(m.RatingAcknowledged)
    def _rated(self, message: m.RatingAcknowledged) -> None:
        self.model.add_rating(message.rating.model_dump())
        landing = self.landing
        if landing is not None and landing.rating_id == message.rating.id and landing.held:
            self._landing_due.clear()
            self._check_landing()
            self.follow_landing(landing.rating_id, landing.sample_id)

    def _check_landing(self) -> None:
        landing, status = self.landing, self.model.status
        if landing is not None and status is not None and status.step >= landing.step:
            self._landing_due.set()

    @work(group="landing", exclusive=True, exit_on_error=False)
    async def follow_landing(self, rating_id: str, sample_id: str) -> None:
        """Once the rated sample's update is done, fetch its final record from the daemon."""
        try:
            async with asyncio.timeout(LANDING_WAIT_S):
                await self._landing_due.wait()  # set by `_event` once step `step` is done
                assert self.client is not None
                record = await self.client.sample(sample_id)
        except (TimeoutError, ApiError):
            return
        self.post_message(m.LandingUpdated(rating_id, dict(record["sample"])))

    @on(m.LandingUpdated)
    def _landed(self, message: m.LandingUpdated) -> None:
        if self.landing is not None and self.landing.rating_id == message.rating_id:
            self.landing.after = message.sample
            self.model.versions.ratings += 1  # the rating view redraws its landing line

    @work(group="config", exclusive=True, exit_on_error=False)
    async def load_config(self) -> None:
        if self.client is None:
            return
        try:
            config = await self.client.config()
        except ApiError:
            return
        self.post_message(m.ConfigLoaded(config))

    @on(m.ConfigLoaded)
    def _config_loaded(self, message: m.ConfigLoaded) -> None:
        self.run_config = message.config
        self.model.versions.status += 1

    @on(m.RatingRejected)
    def _rating_rejected(self, message: m.RatingRejected) -> None:
        self.notify(
            f"the daemon refused rating {message.rating_id}: {message.error.message}",
            title="Rating not stored",
            severity="error",
        )

    # -- the event stream ------------------------------------------------------------------

    @work(exclusive=True, group="stream", exit_on_error=False)
    async def follow(self) -> None:
        """Follow `/api/events` for as long as the app runs, reconnecting with backoff.

        It resumes with `?since=<last frame id>`: the daemon replays what was missed, or
        sends a fresh snapshot; the model ignores frames it already holds. While the daemon is
        gone it re-reads the run's `daemon.json`, so a daemon resumed on another port (or with
        another token) is found without restarting the TUI.
        """
        assert self.feed is not None
        delay, attempt = BACKOFF_START_S, 0
        while True:
            connected = False
            try:
                async for event in self.feed.events(self.model.last_event_id):
                    if not connected:
                        connected, delay, attempt = True, BACKOFF_START_S, 0
                        if self.client is not None:
                            self.post_message(m.ConnectionChanged("connected", self.url or ""))
                    self.post_message(m.EventReceived(event))
                error, reachable = "the daemon closed the event stream", True
            except ApiError as exc:
                if exc.status in (401, 403) and not self._reread_daemon_json():
                    self.post_message(m.ConnectionChanged("unauthorized", "", exc.message))
                    return
                error, reachable = exc.message, exc.status != 0
            except Exception as exc:  # a bad frame or a transport error: reconnect, don't die
                error, reachable = f"{type(exc).__name__}: {exc}", True
            if self._reread_daemon_json():
                delay, attempt = BACKOFF_START_S, 0
                continue  # a new daemon serves the run: go there now
            attempt += 1
            wait = delay * (1 + 0.2 * random.random())
            state, why = self._gone_state(reachable)
            detail = f"{why}retry in {wait:.1f}s (try {attempt})"
            self.post_message(m.ConnectionChanged(state, detail, error))
            self._retry.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._retry.wait()
            except TimeoutError:
                pass
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _reread_daemon_json(self) -> bool:
        """Switch to the daemon `daemon.json` names now, if that is not the one followed."""
        if self.run_dir is None or self.client is None:
            return False
        try:
            target = read_run_dir(self.run_dir)
        except TargetError:
            return False
        if target.url == self.client.url and target.token == self.client.token:
            return False
        old = self.client
        self.target = target
        self.url, self.client = target.url, DaemonClient(target.url, target.token)
        self.feed = self.client
        self.run_worker(old.close(), exit_on_error=False)
        return True

    def _gone_state(self, reachable: bool) -> tuple[str, str]:
        """(`exited`, `unreachable` or `reconnecting`, and why) for a lost daemon."""
        step = self.model.status.step if self.model.status is not None else None
        at = f" at step {step}" if step is not None else ""
        if self.demo is not None and self.demo.process is not None:
            code = self.demo.process.poll()
            if code is not None:
                return "exited", f"code {code}{at} · "
        status = self.model.status
        if status is not None and status.state == "stopped":
            return "exited", f"{status.state}{at} · "
        # A finished (or failed) run's daemon keeps serving its results: losing it then is a
        # lost connection, not an exit, unless the checks below know better.
        ended = (
            f"run {status.state}{at} · "
            if status is not None
            and status.state
            in (
                "finished",
                "failed",
            )
            else ""
        )
        if self.run_dir is not None:
            last = read_last_exit(self.run_dir)
            pid = self.target.pid if self.target is not None else None
            if last is not None and pid is not None and last.pid == pid:
                return "exited", f"code {last.code} at step {last.step} · "
            if pid is not None and not pid_alive(pid):
                return "unreachable", f"pid {pid} gone{at} · "
        return ("reconnecting" if reachable else "unreachable"), ended

    def retry_now(self) -> None:
        """Reconnect now: wake the waiting stream worker, or start it again after a 401."""
        if self.feed is None:
            return
        if any(w.group == "stream" and w.is_running for w in self.workers):
            self._retry.set()
        else:
            self.follow()
