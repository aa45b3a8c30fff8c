"""`rlaif bench daemon`: what serving costs training, and how fast events reach clients.

One seeded run (the quickstart model: seconds per step) trains in this process under an
in-process daemon on 127.0.0.1, through alternating arms of `arm_s` seconds each: A without
clients, B with `clients` websocket readers spread over `processes` client processes
(`bench.daemon_clients`, as remote TUIs would be) and ratings posted at `rate` per second.
Arms run A B B A (repeated `pairs // 2` times), so drift in the machine's other load hits
both sides alike. A step counts for an arm only if it started and ended inside it.

Reported: the median step time of each side and their ratio, p50/p99 event latency (hub
publish to client receive; both read the system-wide monotonic clock), p50/p99 rating
acknowledgement, clients the daemon dropped, the daemon's RSS growth from the end of the
first arm to the end of the last, CPU shares, and the load average before and after
(`bench/daemon_report.py` makes and formats the report).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import resource
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from rlaif_tui.bench.cpu import CpuSnapshot, process_cpu_s
from rlaif_tui.bench.daemon_report import Report, Side, make_report
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.daemon.hub import TICK_S

WARMUP_STEPS = 2
"""Steps trained before the first arm (first forward passes, sandbox lanes, allocator)."""


class PublishTimes:
    """When each frame was published (perf_counter), by id: ids grow by one per publish, so
    an array of floats holds them (a dict of 100,000s of ids would grow this process)."""

    def __init__(self, first_id: int) -> None:
        self.first_id = first_id
        self.times = array("d")

    def __call__(self, frame_id: int, _type: str) -> None:
        while self.first_id + len(self.times) < frame_id:
            self.times.append(math.nan)
        self.times.append(time.perf_counter())

    def latencies(self, report: dict[str, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Receive minus publish time of the frames a client process sampled."""
        ids = np.frombuffer(base64.b64decode(report["received_ids"]), dtype=np.int64)
        received = np.frombuffer(base64.b64decode(report["received_t"]), dtype=np.float64)
        published = np.array(self.times, dtype=np.float64)
        index = ids - self.first_id
        known = (index >= 0) & (index < len(published))
        out = received[known] - published[index[known]]
        return out[np.isfinite(out)]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def arm_order(pairs: int) -> list[bool]:
    """True for a loaded arm: A B B A A B B A ... (`pairs` A/B pairs)."""
    return [(i % 4) in (1, 2) for i in range(2 * pairs)]


async def _start_clients(
    url: str, token: str, followers: int, rate: float
) -> asyncio.subprocess.Process:
    """One client process; it says `ready` once every websocket is connected."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rlaif_tui.bench.daemon_clients",
        url,
        str(followers),
        "0",
        str(rate),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "RLAIF_TOKEN": token},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 300)
    if line.strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"the bench clients did not start: {line!r}")
    return proc


async def _stop_clients(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    """Close the clients' stdin (their signal to stop); their JSON report."""
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.close()
    out = await asyncio.wait_for(proc.stdout.read(), 300)
    await asyncio.wait_for(proc.wait(), 60)
    report: dict[str, Any] = json.loads(out)
    return report


def _cpu_delta(procs: list[asyncio.subprocess.Process], before: list[float | None]) -> float:
    """CPU seconds `procs` used since `before` (read from /proc while they still run; 0
    where /proc is not there)."""
    total = 0.0
    for proc, start in zip(procs, before, strict=True):
        now = process_cpu_s(proc.pid)
        if now is not None and start is not None:
            total += now - start
    return total


def _steps_within(points: list[dict[str, Any]], t0: float, t1: float) -> list[float]:
    """Step times of the steps that started and ended in [t0, t1] (wall clock)."""
    out = []
    for p in points:
        end, took = float(p.get("time", 0.0)), float(p.get("time/step_s", 0.0))
        if t0 <= end - took and end <= t1:
            out.append(took)
    return out


def _step_share(points: list[dict[str, Any]], t0: float, t1: float) -> float:
    """How many steps' worth of training ran in [t0, t1]: each step counts by the share of
    its duration inside the window (steps run back to back, so window / this is the mean
    step time even when steps are not much shorter than the window)."""
    total = 0.0
    for p in points:
        end, took = float(p.get("time", 0.0)), float(p.get("time/step_s", 0.0))
        if took > 0:
            total += max(0.0, min(end, t1) - max(end - took, t0)) / took
    return total


async def _bench(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    clients: int,
    processes: int,
    rate: float,
    arm_s: float,
    pairs: int,
    queue_limit: int,
    event_tick_s: float | None,
) -> tuple[Side, Side, float, int]:
    from rlaif_tui.daemon.auth import new_token
    from rlaif_tui.daemon.main import Options, start

    token = new_token()
    await asyncio.to_thread(run_dir.mkdir, parents=True)
    options = Options(
        port=0, paused=True, queue_limit=queue_limit, max_connections_per_ip=clients + 64
    )
    if event_tick_s is not None:
        options.event_tick_s = event_tick_s
    running = await start(cfg, run_dir, False, options, token)
    published = PublishTimes(running.hub.last_id + 1)
    running.hub.on_publish = published
    base, loaded = Side(), Side()
    windows: list[tuple[Side, float, float]] = []
    rss_first = rss_last = float("nan")
    try:
        running.runner.resume()
        while running.runner.step < WARMUP_STEPS:  # bounded by the run's steps
            if running.runner.failed or running.runner.state == "finished":
                raise RuntimeError(running.runner.failed or "the run ended during warm-up")
            await asyncio.sleep(0.2)
        for i, with_load in enumerate(arm_order(pairs)):
            side = loaded if with_load else base
            followers: list[asyncio.subprocess.Process] = []
            raters: list[asyncio.subprocess.Process] = []
            if with_load:
                shares = [
                    clients // processes + (k < clients % processes) for k in range(processes)
                ]
                followers = [await _start_clients(running.url, token, n, 0.0) for n in shares]
                if rate > 0:
                    raters = [await _start_clients(running.url, token, 0, rate)]
            ours = {p.pid for p in followers + raters}
            cpu_before = CpuSnapshot.take(exclude=ours)
            follower_cpu0 = [process_cpu_s(p.pid) for p in followers]
            rater_cpu0 = [process_cpu_s(p.pid) for p in raters]
            dropped0, cpu0 = running.hub.dropped, _cpu_s()
            t0, w0 = time.time(), time.perf_counter()
            await asyncio.sleep(arm_s)
            t1 = time.time()
            side.wall_s += time.perf_counter() - w0
            side.cpu_s += _cpu_s() - cpu0
            side.cpu.add(cpu_before, CpuSnapshot.take(exclude=ours))
            side.client_cpu_s += _cpu_delta(followers, follower_cpu0)
            side.rater_cpu_s += _cpu_delta(raters, rater_cpu0)
            side.load1.append(os.getloadavg()[0])
            side.dropped += running.hub.dropped - dropped0
            for proc in followers + raters:
                got = await _stop_clients(proc)
                side.latencies_s.append(published.latencies(got))
                side.frames += len(base64.b64decode(got["received_ids"])) // 8
                side.rating_ack_s += got["rating_ack_s"]
                side.ratings_failed += got["failed"]
            windows.append((side, t0, t1))
            if running.runner.failed:
                raise RuntimeError(running.runner.failed)
            if i == 0:
                rss_first = _rss_mb()
        rss_last = _rss_mb()
        coalesced = running.hub.coalesced
        last = running.runner.step + 1  # the step in progress ends, so its share counts
        async with asyncio.timeout(600):
            while running.runner.step < last:
                if running.runner.failed:
                    raise RuntimeError(running.runner.failed)
                await asyncio.sleep(0.2)
        for side, t0, t1 in windows:
            side.step_s += _steps_within(running.runner.metrics, t0, t1)
            side.arm_s += t1 - t0
            side.step_share += _step_share(running.runner.metrics, t0, t1)
    finally:
        await running.close()
    return base, loaded, rss_last - rss_first, coalesced


def run_bench(
    cfg: TrainConfig,
    config_name: str,
    *,
    clients: int = 200,
    processes: int = 4,
    rate: float = 50.0,
    arm_s: float = 60.0,
    pairs: int = 2,
    queue_limit: int = 256,
    event_tick_s: float | None = None,
) -> Report:
    """Train `cfg` through `2 * pairs` arms of `arm_s` seconds, A B B A ... (see the module)."""
    load_before = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="rlaif-bench-daemon-") as tmp:
        base, loaded, rss_growth, coalesced = asyncio.run(
            _bench(
                cfg,
                Path(tmp) / "run",
                clients=clients,
                processes=max(1, min(processes, clients)),
                rate=rate,
                arm_s=arm_s,
                pairs=pairs,
                queue_limit=queue_limit,
                event_tick_s=event_tick_s,
            )
        )
    return make_report(
        config_name,
        base,
        loaded,
        clients=clients,
        processes=processes,
        rate=rate,
        arm_s=arm_s,
        arms="".join("B" if x else "A" for x in arm_order(pairs)),
        queue_limit=queue_limit,
        event_tick_s=TICK_S if event_tick_s is None else event_tick_s,
        rss_growth_mb=rss_growth,
        coalesced=coalesced,
        load_before=load_before,
    )
