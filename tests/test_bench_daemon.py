"""`rlaif bench daemon` end to end, small: the smoke config, a few clients in two processes,
a rating poster, arms of a few seconds. Checks what it reports (the CPU accounting, latency
samples, acknowledged ratings, no dropped client), not how fast anything is.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path

import pytest

from rlaif_tui.bench.cpu import CpuSnapshot, CpuUse, machine_busy_s, process_cpu_s
from rlaif_tui.bench.daemon import run_bench
from rlaif_tui.bench.daemon_report import json_line
from rlaif_tui.config import load_config
from rlaif_tui.config.train import TrainConfig

REPO = Path(__file__).resolve().parent.parent


def burn(seconds: float) -> None:
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_cpu_is_counted_for_the_thread_that_used_it() -> None:
    burned, release = threading.Event(), threading.Event()

    def work() -> None:
        burn(0.3)
        burned.set()
        release.wait(30)

    before = CpuSnapshot.take()
    worker = threading.Thread(target=work, name="burner-1")
    worker.start()
    try:
        assert burned.wait(30)
        after = CpuSnapshot.take()  # while it lives: /proc forgets a thread that ended
    finally:
        release.set()
        worker.join()
    use = CpuUse()
    use.add(before, after)
    assert use.measured
    assert use.threads["burner"] >= 0.25  # named by Python, its counter dropped
    assert use.machine_s >= 0.25
    assert process_cpu_s(os.getpid()) is not None
    assert (machine_busy_s() or 0.0) > 0.0


@pytest.mark.slow
def test_bench_daemon_reports_cpu_by_whom_and_drops_no_reader() -> None:
    cfg = load_config(
        REPO / "configs" / "smoke.yaml",
        TrainConfig,
        {"run.steps": 100_000, "run.checkpoint_every": 0, "run.save_final": False},
    )
    report = run_bench(cfg, "smoke", clients=6, processes=2, rate=5.0, arm_s=4.0, pairs=1)
    assert report.arms == "AB"
    assert report.clients_dropped == 0
    assert report.ratings_acked > 0
    assert report.ratings_failed == 0
    assert report.frames_sampled > 0
    assert report.event_latency_p99_ms > 0
    loaded = report.cpu_cores["loaded"]
    baseline = report.cpu_cores["baseline"]
    assert loaded is not None
    assert baseline is not None
    assert loaded["clients"] > 0.0  # six readers and a poster cost something
    assert loaded["rater"] > 0.0
    assert baseline["clients"] == 0.0
    assert baseline["daemon_threads"]["rlaif-trainer"] > 0.0
    assert loaded["daemon_threads"]["loop"] > 0.0
    assert len(loaded["load1_per_arm"]) == 1
    line = json.loads(json_line(report))
    assert line["bench"] == "daemon"
    assert set(line["cpu_cores"]["loaded"]) >= {"training", "serving", "clients", "others"}
    assert math.isfinite(line["cpu_cores"]["loaded"]["machine"])
