"""`rlaif bench daemon`: what serving costs training, and how fast events reach clients.

The same seeded run is trained several times in this process by an in-process daemon on
127.0.0.1, without clients (the baseline) and with `clients` websocket clients following
`/api/events`, `slow` clients that connect and never read, and ratings posted at `rate` per
second. Reported: the change in median step time, p50/p99 event latency (from the hub
publishing a frame to a client receiving it; both clocks are this process's), p50/p99 rating
acknowledgement time, and how many clients were dropped for not keeping up. The clients run
in a separate process (`bench.daemon_clients`), as a remote TUI would; frame times compare
across the two processes because both read the system-wide monotonic clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
    cpu_s: float = 0.0
    """CPU time of the daemon's process (training + serving) while it trained."""
    client_cpu_s: float = 0.0
    """CPU time of the clients' process."""
    wall_s: float = 0.0


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
    baseline_daemon_cpu_share: float
    """CPU seconds of the daemon process per wall second, without clients (2.0 = two cores)."""
    loaded_daemon_cpu_share: float
    loaded_clients_cpu_share: float
    """CPU seconds of the clients' process per wall second of the loaded runs."""


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _median_step(points: list[dict[str, Any]]) -> list[float]:
    # step 1 carries one-off warm-up (first forward passes, sandbox lanes); leave it out
    return [float(p["time/step_s"]) for p in points if p.get("step", 0) > 1]


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
    clients: asyncio.subprocess.Process | None = None
    result: dict[str, Any] = {}
    phase = Phase()
    try:
        if load is not None:
            clients = await _start_clients(running.url, token, *load)
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        running.runner.resume()
        while True:  # bounded by the run's steps
            if running.runner.state in ("finished", "failed"):
                break
            await asyncio.sleep(0.2)
        phase.cpu_s, phase.wall_s = _cpu_s() - cpu0, time.perf_counter() - wall0
        if running.runner.failed:
            raise RuntimeError(running.runner.failed)
        await asyncio.sleep(0.5)  # frames in flight reach the clients
    finally:
        if clients is not None:
            result = await _stop_clients(clients)
        phase.dropped = running.hub.dropped
        phase.step_s = _median_step(running.runner.metrics)
        await running.close()
    if result:
        received = result["received"]
        phase.latencies_s = [t - published[i] for i, t in received if i in published]
        phase.frames = len(received)
        phase.rating_ack_s = result["rating_ack_s"]
        phase.ratings_sent, phase.ratings_failed = result["sent"], result["failed"]
        phase.dropped_following = result["closed_followers"]
        phase.client_cpu_s = result["cpu_s"]
    return phase


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _start_clients(
    url: str, token: str, followers: int, slow: int, rate: float
) -> asyncio.subprocess.Process:
    """The load in its own process (`bench.daemon_clients`), as remote clients would be; it
    says `ready` once every websocket is connected."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rlaif_tui.bench.daemon_clients",
        url,
        str(followers),
        str(slow),
        str(rate),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "RLAIF_TOKEN": token},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 180)
    if line.strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"the bench clients did not start: {line!r}")
    return proc


async def _stop_clients(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    """Close the clients' stdin (their signal to stop); their JSON report."""
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.close()
    out = await asyncio.wait_for(proc.stdout.read(), 120)
    await asyncio.wait_for(proc.wait(), 60)
    report: dict[str, Any] = json.loads(out)
    return report


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
        baseline_daemon_cpu_share=base.cpu_s / base.wall_s,
        loaded_daemon_cpu_share=loaded.cpu_s / loaded.wall_s,
        loaded_clients_cpu_share=loaded.client_cpu_s / loaded.wall_s,
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
    into.cpu_s += got.cpu_s
    into.client_cpu_s += got.client_cpu_s
    into.wall_s += got.wall_s


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
            f"  CPU (cores busy)   daemon {r.baseline_daemon_cpu_share:.2f} without clients, "
            f"{r.loaded_daemon_cpu_share:.2f} with them; the clients' process "
            f"{r.loaded_clients_cpu_share:.2f} (of {os.cpu_count()} cores, shared)",
            f"  dropped clients    {r.dropped_slow_clients} of {r.slow_clients * r.rounds} "
            f"silent, {r.dropped_following_clients} of {r.clients * r.rounds} reading",
        ]
    )


def json_line(r: Report) -> str:
    return json.dumps({"bench": "daemon", **asdict(r)})
