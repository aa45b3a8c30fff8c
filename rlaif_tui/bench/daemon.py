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
first arm to the end of the last, CPU shares, and the load average before and after.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rlaif_tui.bench.cpu import CpuSnapshot, CpuUse, process_cpu_s
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.daemon.hub import TICK_S

WARMUP_STEPS = 2
"""Steps trained before the first arm (first forward passes, sandbox lanes, allocator)."""


@dataclass
class Side:
    step_s: list[float] = field(default_factory=list)
    latencies_s: list[np.ndarray[Any, np.dtype[np.float64]]] = field(default_factory=list)
    """Event latencies, one array per client process and arm (compact: the RSS figure is
    this process's, and the daemon's growth must not be the benchmark's own samples)."""
    rating_ack_s: list[float] = field(default_factory=list)
    ratings_failed: int = 0
    frames: int = 0
    dropped: int = 0
    cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    """Of the websocket client processes, inside the arms."""
    rater_cpu_s: float = 0.0
    """Of the rating poster's process, inside the arms."""
    cpu: CpuUse = field(default_factory=CpuUse)
    load1: list[float] = field(default_factory=list)
    """The 1-minute load average at the end of each arm."""
    wall_s: float = 0.0
    arm_s: float = 0.0
    """Wall time of the arms (time.time), and the steps' worth trained in them."""
    step_share: float = 0.0


@dataclass
class Report:
    config: str
    clients: int
    processes: int
    ratings_per_s: float
    arm_s: float
    arms: str
    queue_limit: int
    event_tick_s: float
    """How long the daemon gathered events before sending them (one write per client)."""
    baseline_steps: int
    loaded_steps: int
    baseline_step_s: float
    loaded_step_s: float
    step_time_change: float
    """Of the median step time, over steps that fit inside an arm (few if steps are long)."""
    baseline_mean_step_s: float
    """Arm time per step's worth trained in it (every step counted by its share in an arm)."""
    loaded_mean_step_s: float
    mean_step_time_change: float
    event_latency_p50_ms: float
    event_latency_p99_ms: float
    rating_ack_p50_ms: float
    rating_ack_p99_ms: float
    frames_sampled: int
    """Frames whose latency was measured (every `SAMPLE_EVERY`-th id, all clients)."""
    ratings_acked: int
    ratings_failed: int
    clients_dropped: int
    frames_coalesced: int
    rss_growth_mb: float
    baseline_daemon_cpu_share: float
    """CPU seconds of the daemon process per wall second, without clients (2.0 = two cores)."""
    loaded_daemon_cpu_share: float
    loaded_clients_cpu_share: float
    cpu_cores: dict[str, dict[str, Any] | None]
    """Per side (`baseline`, `loaded`): cores busy on average over its arms (CPU seconds per
    wall second, all from /proc): `daemon_threads` (this process's threads by name:
    `loop` = the event loop that serves, `rlaif-trainer` = training, `rlaif-ratings` = the
    ratings store, `native:NAME` = torch's and the sandbox's own threads), `training` (trainer
    and native threads plus the sandbox's processes), `serving` (the rest of this process),
    `clients` (the websocket client processes), `rater` (the rating poster's process),
    `machine` (every core's busy time, whoever used it), `others` (machine minus all of the
    above: other users of the machine), `load1_per_arm` (1-minute load average at each arm's
    end)."""
    load_before: list[float]
    load_after: list[float]


def _quantile(values: Sequence[float] | np.ndarray[Any, Any], q: float) -> float:
    if len(values) == 0:
        return float("nan")
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


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


TRAINING_THREADS = ("rlaif-trainer", "native:")
"""Thread groups that train: the trainer's thread, and threads Python did not start (torch's
intra-op pool, the sandbox's lanes)."""


def cpu_cores(side: Side) -> dict[str, Any] | None:
    """Cores busy on average over `side`'s arms, by whom; None without /proc."""
    use, wall = side.cpu, side.wall_s
    if not use.measured or wall <= 0:
        return None
    threads = {name: s / wall for name, s in sorted(use.threads.items())}
    training = sum(v for k, v in threads.items() if k.startswith(TRAINING_THREADS))
    daemon = sum(threads.values())
    sandbox = use.helpers_s / wall
    clients, rater = side.client_cpu_s / wall, side.rater_cpu_s / wall
    machine = use.machine_s / wall
    return {
        "daemon_threads": threads,
        "training": training + sandbox,
        "serving": daemon - training,
        "clients": clients,
        "rater": rater,
        "machine": machine,
        "others": max(0.0, machine - daemon - sandbox - clients - rater),
        "load1_per_arm": side.load1,
    }


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
    latencies = np.concatenate(loaded.latencies_s) if loaded.latencies_s else np.zeros(0)
    # NaN if no step fitted inside an arm (--arm-seconds shorter than a few step times)
    b = statistics.median(base.step_s) if base.step_s else float("nan")
    ld = statistics.median(loaded.step_s) if loaded.step_s else float("nan")
    ms = 1000.0
    return Report(
        config=config_name,
        clients=clients,
        processes=processes,
        ratings_per_s=rate,
        arm_s=arm_s,
        arms="".join("B" if x else "A" for x in arm_order(pairs)),
        queue_limit=queue_limit,
        event_tick_s=TICK_S if event_tick_s is None else event_tick_s,
        baseline_steps=len(base.step_s),
        loaded_steps=len(loaded.step_s),
        baseline_step_s=b,
        loaded_step_s=ld,
        step_time_change=ld / b - 1.0,
        baseline_mean_step_s=base.arm_s / base.step_share,
        loaded_mean_step_s=loaded.arm_s / loaded.step_share,
        mean_step_time_change=(loaded.arm_s / loaded.step_share) / (base.arm_s / base.step_share)
        - 1.0,
        event_latency_p50_ms=_quantile(latencies, 0.50) * ms,
        event_latency_p99_ms=_quantile(latencies, 0.99) * ms,
        rating_ack_p50_ms=_quantile(loaded.rating_ack_s, 0.50) * ms,
        rating_ack_p99_ms=_quantile(loaded.rating_ack_s, 0.99) * ms,
        frames_sampled=loaded.frames,
        ratings_acked=len(loaded.rating_ack_s),
        ratings_failed=loaded.ratings_failed,
        clients_dropped=loaded.dropped,
        frames_coalesced=coalesced,
        rss_growth_mb=rss_growth,
        baseline_daemon_cpu_share=base.cpu_s / base.wall_s,
        loaded_daemon_cpu_share=loaded.cpu_s / loaded.wall_s,
        loaded_clients_cpu_share=(loaded.client_cpu_s + loaded.rater_cpu_s) / loaded.wall_s,
        cpu_cores={"baseline": cpu_cores(base), "loaded": cpu_cores(loaded)},
        load_before=load_before,
        load_after=list(os.getloadavg()),
    )


def format_report(r: Report) -> str:
    return "\n".join(
        [
            f"rlaif bench daemon: {r.config}, arms {r.arms} of {r.arm_s:g} s; B = {r.clients} "
            f"websocket clients in {r.processes} processes + {r.ratings_per_s:g} ratings/s; "
            f"client queue limit {r.queue_limit}, events sent every {r.event_tick_s * 1000:g} ms",
            f"  median step time   {r.baseline_step_s:.3f} s without clients "
            f"({r.baseline_steps} steps), {r.loaded_step_s:.3f} s with them "
            f"({r.loaded_steps} steps): {r.step_time_change:+.1%}",
            f"  mean step time     {r.baseline_mean_step_s:.3f} s without clients, "
            f"{r.loaded_mean_step_s:.3f} s with them: {r.mean_step_time_change:+.1%} "
            "(arm time / steps' worth trained in it)",
            f"  event latency      p50 {r.event_latency_p50_ms:.1f} ms, "
            f"p99 {r.event_latency_p99_ms:.1f} ms ({r.frames_sampled} frames sampled)",
            f"  rating ack         p50 {r.rating_ack_p50_ms:.1f} ms, "
            f"p99 {r.rating_ack_p99_ms:.1f} ms ({r.ratings_acked} acked, "
            f"{r.ratings_failed} failed)",
            f"  clients dropped    {r.clients_dropped} ({r.frames_coalesced} frames coalesced)",
            f"  daemon RSS growth  {r.rss_growth_mb:+.1f} MB (end of first arm to end of last)",
            f"  CPU (cores busy)   daemon {r.baseline_daemon_cpu_share:.2f} without clients, "
            f"{r.loaded_daemon_cpu_share:.2f} with them; client processes "
            f"{r.loaded_clients_cpu_share:.2f} (of {os.cpu_count()} cores, shared)",
            *_cpu_lines(r),
            f"  load average       {' '.join(f'{x:.2f}' for x in r.load_before)} before, "
            f"{' '.join(f'{x:.2f}' for x in r.load_after)} after",
        ]
    )


def _cpu_lines(r: Report) -> list[str]:
    """Who kept the cores busy in each side's arms (see `Report.cpu_cores`)."""
    lines = []
    for side, label in (("baseline", "without clients"), ("loaded", "with clients")):
        c = r.cpu_cores.get(side)
        if c is None:
            continue
        threads = ", ".join(f"{k} {v:.2f}" for k, v in c["daemon_threads"].items() if v >= 0.005)
        loads = " ".join(f"{x:.1f}" for x in c["load1_per_arm"])
        lines += [
            f"  cores {label:<16} training {c['training']:.2f}, serving {c['serving']:.2f}, "
            f"clients {c['clients']:.2f}, rater {c['rater']:.2f}, others {c['others']:.2f} "
            f"(machine {c['machine']:.2f}; load1 at arm ends {loads})",
            f"    daemon threads     {threads}",
        ]
    return lines


def json_line(r: Report) -> str:
    """One JSON line; a figure that could not be measured (NaN) is null."""
    from rlaif_tui.daemon.jsonout import dumps

    return dumps({"bench": "daemon", **asdict(r)})
