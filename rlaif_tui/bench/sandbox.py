"""`rlaif bench sandbox`: HumanEval canonical solutions, repeated to >= 1,000 programs, through
the sandboxed executor, through unsandboxed in-process `exec` (the upper bound), and through one
fresh `python` subprocess per program (the usual harness), all in one run."""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from rlaif_tui._reward import RewardCache
from rlaif_tui.bench.data import humaneval, humaneval_job, humaneval_wrong
from rlaif_tui.reward import Executor


def _program(p: dict[str, Any]) -> str:
    src: str = p["prompt"] + p["canonical_solution"] + "\n" + p["test"]
    return src + f"\ncheck({p['entry_point']})\n"


ROUNDS = 4
"""The three approaches take turns, a quarter of the programs each time, so that load from
elsewhere on the machine falls on all of them alike and the ratios stay meaningful."""


def time_inprocess(problems: list[dict[str, Any]], indices: range) -> float:
    """Seconds for plain `exec` of these programs in this process (no isolation at all)."""
    codes = [compile(_program(p), f"<{p['task_id']}>", "exec") for p in problems]
    t0 = time.perf_counter()
    for i in indices:
        exec(codes[i % len(codes)], {"__name__": "__main__"})
    return time.perf_counter() - t0


def time_subprocess(problems: list[dict[str, Any]], indices: range, workers: int) -> float:
    """Seconds with one fresh `python` per program, `workers` at a time (the TRL-style reward:
    a thread pool of subprocess runs)."""

    def one(i: int) -> int:
        src = _program(problems[i % len(problems)])
        return subprocess.run(
            [sys.executable, "-c", src], capture_output=True, timeout=30, check=False
        ).returncode

    with ThreadPoolExecutor(workers) as pool:
        t0 = time.perf_counter()
        codes = list(pool.map(one, indices))
        dt = time.perf_counter() - t0
    if any(codes):
        raise RuntimeError("a canonical solution failed in a subprocess")
    return dt


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_pass(ex: Executor, jobs: list[dict[str, Any]]) -> dict[str, float]:
    """CPU milliseconds per job in each process kind: the lanes (this process's Rust threads,
    measured with nothing else running here), zygotes, harnesses and the sandboxed children."""
    daemons = [(z, h) for z, h, _ in ex.core.lanes]
    try:
        before = [(_proc_cpu_s(z), _proc_cpu_s(h)) for z, h in daemons]
    except OSError:
        return {}
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    outcomes = ex.run(jobs)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        after = [(_proc_cpu_s(z), _proc_cpu_s(h)) for z, h in daemons]
    except OSError:  # a lane restarted its processes meanwhile
        return {}
    n = len(jobs) / 1000
    lane = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    return {
        "lane": lane / n,
        "zygote": sum(a[0] - b[0] for a, b in zip(after, before, strict=True)) / n,
        "harness": sum(a[1] - b[1] for a, b in zip(after, before, strict=True)) / n,
        "child": sum(o.cpu_s for o in outcomes) / n,
    }


def _split(n: int, parts: int) -> list[range]:
    edges = [n * k // parts for k in range(parts + 1)]
    return [range(edges[k], edges[k + 1]) for k in range(parts)]


def run_bench(*, programs: int, workers: int, subprocess_programs: int, json_out: bool) -> int:
    console = Console(stderr=json_out)
    problems = humaneval()
    if problems is None:
        console.print(
            "HumanEval.jsonl.gz not found: set RLAIF_BENCHMARKS or put shared/benchmarks "
            "beside the checkout"
        )
        return 2
    copies = math.ceil(programs / len(problems))
    # Each copy differs by a comment, so neither de-duplication nor a cache can skip work.
    jobs = [
        humaneval_job(
            p, code=p["prompt"] + p["canonical_solution"] + f"\n# copy {r}\n", suffix=f"#{r}"
        )
        for r in range(copies)
        for p in problems
    ]
    n = len(jobs)
    console.print(
        f"{n} programs ({len(problems)} HumanEval canonical solutions x {copies}), {workers} lanes"
    )
    executor_s = inprocess_s = subprocess_s = 0.0
    outcomes = []
    with Executor(workers=workers, timeout_s=10.0) as ex:
        isolation = ex.isolation
        ex.run(jobs[:32])  # warm-up: lanes started, harness caches filled
        for part, sub_part in zip(
            _split(n, ROUNDS), _split(subprocess_programs, ROUNDS), strict=True
        ):
            t0 = time.perf_counter()
            outcomes += ex.run([jobs[i] for i in part])
            executor_s += time.perf_counter() - t0
            inprocess_s += time_inprocess(problems, part)
            subprocess_s += time_subprocess(problems, sub_part, workers)
        canonical = ex.run([humaneval_job(p) for p in problems])
        wrong = ex.run([humaneval_wrong(p) for p in problems])
        cpu = profile_pass(ex, jobs[: len(problems)])
        hardening = ex.core.lanes[0][2]
    executor_per_s = n / executor_s
    inprocess_per_s = n / inprocess_s
    subprocess_per_s = subprocess_programs / subprocess_s
    # Cache hits: the same programs again through an executor whose cache the first pass filled.
    cache = RewardCache()
    with Executor(workers=workers, timeout_s=10.0, cache=cache) as ex:
        ex.run(jobs)
        stored = len(cache)
        t0 = time.perf_counter()
        hits = ex.run(jobs)
        cache_hits_per_s = n / (time.perf_counter() - t0)
    hit_share = sum(o.cached for o in hits) / n
    bad = [o for o in outcomes if not o.passed]
    canonical_pass = sum(o.passed for o in canonical)
    wrong_fail = sum(not o.passed for o in wrong)
    console.print(f"executor ({isolation} isolation): {executor_per_s:8.1f} programs/s")
    console.print(f"in-process exec (no isolation): {inprocess_per_s:8.1f} programs/s")
    console.print(
        f"fresh python per program ({workers} at a time, {subprocess_programs} programs): "
        f"{subprocess_per_s:8.1f} programs/s"
    )
    result = {
        "executor_per_s": round(executor_per_s, 1),
        "inprocess_per_s": round(inprocess_per_s, 1),
        "subprocess_per_s": round(subprocess_per_s, 1),
        "ratio_vs_inprocess": round(executor_per_s / inprocess_per_s, 3),
        "ratio_vs_subprocess": round(executor_per_s / subprocess_per_s, 2),
        "cache_hits_per_s": round(cache_hits_per_s, 1),
        "canonical_pass": canonical_pass,
        "wrong_fail": wrong_fail,
        "isolation": isolation,
    }
    if cpu:
        console.print(
            "CPU per job (ms): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            + f"; in-process exec {1000 / inprocess_per_s:.2f}"
        )
    if hardening:
        console.print(
            "hardening a child (trial, CPU us): "
            + ", ".join(f"{step} {s * 1e6:.0f}" for step, s in hardening)
        )
    console.print(
        f"executor / in-process = {result['ratio_vs_inprocess']}x (target >= 0.3), "
        f"executor / subprocess = {result['ratio_vs_subprocess']}x (target >= 3)"
    )
    console.print(
        f"cache hits: {cache_hits_per_s:8.1f} programs/s "
        f"({stored} outcomes stored, {hit_share:.0%} of the second pass served from the cache)"
    )
    console.print(
        f"canonical solutions passing: {canonical_pass}/{len(problems)}; "
        f"wrong solutions failing: {wrong_fail}/{len(problems)}"
    )
    if bad:
        console.print(
            f"{len(bad)} repeated programs did not pass, e.g. "
            f"{bad[0].id}: {bad[0].status} {bad[0].message}"
        )
    if json_out:
        print(json.dumps(result))
    ok = canonical_pass == len(problems) and wrong_fail == len(problems) and not bad
    return 0 if ok else 1
