"""`rlaif bench daemon`: what serving costs training, and how fast events reach clients.

The same seeded run is trained several times in this process by an in-process daemon on
127.0.0.1, without clients (the baseline) and with `clients` websocket clients following
`/api/events`, `slow` clients that connect and never read, and ratings posted at `rate` per
second. Reported: the change in median step time, p50/p99 event latency (from the hub
publishing a frame to a client receiving it; both clocks are this process's), p50/p99 rating
acknowledgement time, and how many clients were dropped for not keeping up. Clients run on
their own thread and event loop, as a remote TUI would not share the daemon's loop.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from rlaif_tui.api import DaemonClient, RatingIn
from rlaif_tui.config.train import TrainConfig


@dataclass
class Phase:
    step_s: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    rating_ack_s: list[float] = field(default_factory=list)
    ratings_sent: int = 0
    ratings_failed: int = 0
    frames: int = 0
    dropped: int = 0
    dropped_following: int = 0
    """Dropped clients among those that read (the slow ones are meant to be dropped)."""


@dataclass
class Report:
    config: str
    steps: int
    clients: int
    slow_clients: int
    ratings_per_s: float
    queue_limit: int
    rounds: int
    baseline_step_s: float
    loaded_step_s: float
    step_time_change: float
    event_latency_p50_ms: float
    event_latency_p99_ms: float
    rating_ack_p50_ms: float
    rating_ack_p99_ms: float
    frames_delivered: int
    ratings_acked: int
    ratings_failed: int
    dropped_slow_clients: int
    dropped_following_clients: int


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _median_step(points: list[dict[str, Any]]) -> list[float]:
    # step 1 carries one-off warm-up (first forward passes, sandbox lanes); leave it out
    return [float(p["time/step_s"]) for p in points if p.get("step", 0) > 1]


class _Clients:
    """The load: websocket followers, silent clients and a rating poster, on their own loop."""

    def __init__(self, url: str, token: str, followers: int, slow: int, rate: float) -> None:
        self.url, self.token = url, token
        self.followers, self.slow, self.rate = followers, slow, rate
        self.received: list[tuple[int, float]] = []
        self.rating_ack_s: list[float] = []
        self.sent = self.failed = 0
        self.sample_ids: list[str] = []
        self.closed_followers = 0
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._main, name="bench-clients", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(120):
            raise RuntimeError("the bench clients did not connect within 120 s")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        headers = {"Authorization": f"Bearer {self.token}"}
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            sockets = [
                await http.ws_connect(f"{self.url}/api/events", headers=headers, heartbeat=None)
                for _ in range(self.followers + self.slow)
            ]
            tasks = [
                asyncio.create_task(self._follow(ws, i == 0))
                for i, ws in enumerate(sockets[: self.followers])
            ]
            tasks.append(asyncio.create_task(self._rate()))
            self.ready.set()
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for ws in sockets:
                await ws.close()

    async def _follow(self, ws: aiohttp.ClientWebSocketResponse, collect: bool) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            now = time.perf_counter()
            frame = json.loads(msg.data)
            if frame["type"] != "snapshot":
                self.received.append((int(frame["id"]), now))
            if collect and frame["type"] == "sample":
                self.sample_ids.append(str(frame["data"]["id"]))
        self.closed_followers += 1

    async def _rate(self) -> None:
        if self.rate <= 0:
            return
        async with DaemonClient(self.url, self.token, timeout_s=30) as client:
            period = 1.0 / self.rate
            next_at = time.perf_counter()
            while True:
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                if not self.sample_ids:
                    continue
                sample = self.sample_ids[self.sent % len(self.sample_ids)]
                rating = RatingIn(id=uuid.uuid4().hex, sample_id=sample, score=1 + self.sent % 5)
                t0 = time.perf_counter()
                self.sent += 1
                try:
                    await client.rate(rating)
                except Exception:
                    self.failed += 1
                    continue
                self.rating_ack_s.append(time.perf_counter() - t0)


async def _run_phase(
    cfg: TrainConfig, run_dir: Path, load: tuple[int, int, float] | None, queue_limit: int
) -> Phase:
    from rlaif_tui.daemon.auth import new_token
    from rlaif_tui.daemon.main import Options, start

    token = new_token()
    await asyncio.to_thread(run_dir.mkdir, parents=True)
    options = Options(port=0, paused=True, queue_limit=queue_limit)
    running = await start(cfg, run_dir, False, options, token)
    published: dict[int, float] = {}
    running.hub.on_publish = lambda frame_id, _type: published.__setitem__(
        frame_id, time.perf_counter()
    )
    clients = None
    phase = Phase()
    try:
        if load is not None:
            clients = _Clients(running.url, token, *load)
            await asyncio.to_thread(clients.start)
        running.runner.resume()
        while True:  # bounded by the run's steps
            if running.runner.state in ("finished", "failed"):
                break
            await asyncio.sleep(0.2)
        if running.runner.failed:
            raise RuntimeError(running.runner.failed)
        await asyncio.sleep(0.5)  # frames in flight reach the clients
    finally:
        if clients is not None:
            await asyncio.to_thread(clients.stop)
        phase.dropped = running.hub.dropped
        phase.step_s = _median_step(running.runner.metrics)
        await running.close()
    if clients is not None:
        phase.latencies_s = [t - published[i] for i, t in clients.received if i in published]
        phase.frames = len(clients.received)
        phase.rating_ack_s = clients.rating_ack_s
        phase.ratings_sent, phase.ratings_failed = clients.sent, clients.failed
        phase.dropped_following = clients.closed_followers
    return phase


def run_bench(
    cfg: TrainConfig,
    config_name: str,
    *,
    clients: int = 50,
    slow: int = 2,
    rate: float = 20.0,
    queue_limit: int = 64,
    rounds: int = 2,
) -> Report:
    """Runs of `cfg` (each bounded by `cfg.run.steps`) without and with the load, in the
    order AB BA AB ... so drift in the machine's other load hits both sides alike."""
    base, loaded = Phase(), Phase()
    with tempfile.TemporaryDirectory(prefix="rlaif-bench-daemon-") as tmp:
        for r in range(rounds):
            for with_load in (False, True) if r % 2 == 0 else (True, False):
                load = (clients, slow, rate) if with_load else None
                run_dir = Path(tmp) / f"{r}-{'loaded' if with_load else 'baseline'}"
                got = asyncio.run(_run_phase(cfg, run_dir, load, queue_limit))
                _pool(loaded if with_load else base, got)
    b, ld = statistics.median(base.step_s), statistics.median(loaded.step_s)
    ms = 1000.0
    return Report(
        config=config_name,
        steps=cfg.run.steps,
        clients=clients,
        slow_clients=slow,
        ratings_per_s=rate,
        queue_limit=queue_limit,
        rounds=rounds,
        baseline_step_s=b,
        loaded_step_s=ld,
        step_time_change=ld / b - 1.0,
        event_latency_p50_ms=_quantile(loaded.latencies_s, 0.50) * ms,
        event_latency_p99_ms=_quantile(loaded.latencies_s, 0.99) * ms,
        rating_ack_p50_ms=_quantile(loaded.rating_ack_s, 0.50) * ms,
        rating_ack_p99_ms=_quantile(loaded.rating_ack_s, 0.99) * ms,
        frames_delivered=loaded.frames,
        ratings_acked=len(loaded.rating_ack_s),
        ratings_failed=loaded.ratings_failed,
        dropped_slow_clients=loaded.dropped - loaded.dropped_following,
        dropped_following_clients=loaded.dropped_following,
    )


def _pool(into: Phase, got: Phase) -> None:
    into.step_s += got.step_s
    into.latencies_s += got.latencies_s
    into.rating_ack_s += got.rating_ack_s
    into.ratings_sent += got.ratings_sent
    into.ratings_failed += got.ratings_failed
    into.frames += got.frames
    into.dropped += got.dropped
    into.dropped_following += got.dropped_following


def format_report(r: Report) -> str:
    return "\n".join(
        [
            f"rlaif bench daemon: {r.config}, {r.rounds} x 2 runs of {r.steps} steps "
            "(step 1 left out), "
            f"{r.clients} websocket clients + {r.slow_clients} that never read, "
            f"{r.ratings_per_s:g} ratings/s, client queue limit {r.queue_limit}",
            f"  median step time   {r.baseline_step_s:.3f} s without clients, "
            f"{r.loaded_step_s:.3f} s with them: {r.step_time_change:+.1%}",
            f"  event latency      p50 {r.event_latency_p50_ms:.1f} ms, "
            f"p99 {r.event_latency_p99_ms:.1f} ms ({r.frames_delivered} frames delivered)",
            f"  rating ack         p50 {r.rating_ack_p50_ms:.1f} ms, "
            f"p99 {r.rating_ack_p99_ms:.1f} ms ({r.ratings_acked} acked, "
            f"{r.ratings_failed} failed)",
            f"  dropped clients    {r.dropped_slow_clients} of {r.slow_clients * r.rounds} "
            f"silent, {r.dropped_following_clients} of {r.clients * r.rounds} reading",
        ]
    )


def json_line(r: Report) -> str:
    return json.dumps({"bench": "daemon", **asdict(r)})
