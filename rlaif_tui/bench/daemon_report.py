"""The figures of `rlaif bench daemon` (`bench/daemon.py` runs the arms): what each side's arms
measured, the report made of them, and its text and JSON forms.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rlaif_tui.bench.cpu import CpuUse


@dataclass
class Side:
    """What one side (A without clients, B with them) measured, summed over its arms."""

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


def make_report(
    config_name: str,
    base: Side,
    loaded: Side,
    *,
    clients: int,
    processes: int,
    rate: float,
    arm_s: float,
    arms: str,
    queue_limit: int,
    event_tick_s: float,
    rss_growth_mb: float,
    coalesced: int,
    load_before: list[float],
) -> Report:
    """The report of a run whose arms (`arms`, A = `base`, B = `loaded`) are over."""
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
        arms=arms,
        queue_limit=queue_limit,
        event_tick_s=event_tick_s,
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
        rss_growth_mb=rss_growth_mb,
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
