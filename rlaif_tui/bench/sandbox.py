"""`rlaif bench sandbox`: HumanEval canonical solutions, repeated to >= 1,000 programs, through
the sandboxed executor, through unsandboxed in-process `exec` (the upper bound), and through one
fresh `python` subprocess per program (the usual harness), all in one run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rich.console import Console

from rlaif_tui._reward import RewardCache
from rlaif_tui.bench.data import humaneval, humaneval_job, humaneval_wrong
from rlaif_tui.reward import Executor


def _program(p: dict[str, Any]) -> str:
    src: str = p["prompt"] + p["canonical_solution"] + "\n" + p["test"]
    return src + f"\ncheck({p['entry_point']})\n"


def bench_inprocess(problems: list[dict[str, Any]], n: int) -> float:
    """Programs per second of plain `exec` in this process (no isolation at all)."""
    codes = [compile(_program(p), f"<{p['task_id']}>", "exec") for p in problems]
    t0 = time.perf_counter()
    for i in range(n):
        exec(codes[i % len(codes)], {"__name__": "__main__"})
    return n / (time.perf_counter() - t0)


def bench_subprocess(problems: list[dict[str, Any]], n: int, workers: int) -> float:
    """Programs per second with one fresh `python` per program, `workers` at a time."""

    def one(i: int) -> int:
        src = _program(problems[i % len(problems)])
        return subprocess.run(
            [sys.executable, "-c", src], capture_output=True, timeout=30, check=False
        ).returncode

    with ThreadPoolExecutor(workers) as pool:
        t0 = time.perf_counter()
        codes = list(pool.map(one, range(n)))
        dt = time.perf_counter() - t0
    if any(codes):
        raise RuntimeError("a canonical solution failed in a subprocess")
    return n / dt


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
    with Executor(workers=workers, timeout_s=10.0) as ex:
        isolation = ex.isolation
        ex.run(jobs[:32])  # warm-up: lanes started, harness caches filled
        t0 = time.perf_counter()
        outcomes = ex.run(jobs)
        executor_per_s = n / (time.perf_counter() - t0)
        canonical = ex.run([humaneval_job(p) for p in problems])
        wrong = ex.run([humaneval_wrong(p) for p in problems])
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
    inprocess_per_s = bench_inprocess(problems, n)
    console.print(f"in-process exec (no isolation): {inprocess_per_s:8.1f} programs/s")
    subprocess_per_s = bench_subprocess(problems, subprocess_programs, workers)
    console.print(
        f"fresh python per program ({workers} at a time): {subprocess_per_s:8.1f} programs/s"
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
