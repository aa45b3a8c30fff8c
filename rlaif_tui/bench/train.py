"""`rlaif bench train`: our Trainer vs TRL's GRPOTrainer on the pinned workload.

Each system runs in a fresh subprocess with the same environment (torch threads = 2, the same
allocator), one warm-up step then five measured ones (rl-workload.md section A). The ratios are
of median seconds per step; completions/s = 64 / median step time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

COMPLETIONS = 64


def _run(module: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run one system in a child; its stderr lines (one per step) are shown as they come,
    prefixed with the system's name, and the last ones are kept for the error message."""
    label = " ".join([module.rsplit(".", 1)[-1].removeprefix("train_"), *args])
    tail: deque[str] = deque(maxlen=60)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        with subprocess.Popen(
            [sys.executable, "-m", module, *args, str(out)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stderr is not None
            for line in proc.stderr:
                tail.append(line)
                if line.startswith("step "):
                    print(f"bench train [{label}] {line.rstrip()}", file=sys.stderr, flush=True)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{module} {' '.join(args)} failed:\n{''.join(tail)[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    measured = result["steps"][1:]  # step 1 is the warm-up
    times = [s["step_s"] for s in measured]
    med = statistics.median(times)
    out: dict[str, Any] = {
        "s_per_step_median": med,
        "s_per_step_min": min(times),
        "s_per_step_max": max(times),
        "completions_per_s": COMPLETIONS / med,
        "peak_rss_mb": result.get("peak_rss_mb"),
        "schedule_matches": result.get("schedule_matches"),
    }
    if measured and "generate_s" in measured[0]:
        parts = {
            k: statistics.median(s[k] for s in measured)
            for k in ("generate_s", "reward_wait_s", "reference_s", "train_s")
        }
        parts["other_s"] = max(0.0, med - sum(parts.values()))
        out["breakdown"] = parts
        tokens = statistics.median(s["tokens"] for s in measured)
        out["tokens_per_s"] = tokens / med
    return out


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def run_bench(*, with_trl: bool | None = None) -> dict[str, Any]:
    """Run ours, then TRL (as installed and tuned) when the `bench` extra is installed."""
    env = bench_env()
    ours = _run("rlaif_tui.bench.train_ours", env=env)
    report: dict[str, Any] = {
        "ours": summarise(ours),
        "state_sha256_matches": ours["state_sha256_matches"],
    }
    if with_trl is None:
        with_trl = importlib.util.find_spec("trl") is not None
    if with_trl:
        tuned = summarise(_run("rlaif_tui.bench.train_trl", "tuned", env=env))
        installed = summarise(_run("rlaif_tui.bench.train_trl", "installed", env=env))
        report["trl_tuned"] = tuned
        report["trl_installed"] = installed
    return report


def json_line(report: dict[str, Any]) -> dict[str, Any]:
    ours = report["ours"]
    line: dict[str, Any] = {
        "completions_per_s": ours["completions_per_s"],
        "s_per_step": ours["s_per_step_median"],
        "breakdown": ours.get("breakdown"),
        "trl_completions_per_s": None,
        "trl_tuned_completions_per_s": None,
        "ratio_vs_trl": None,
        "ratio_vs_trl_same_env": None,
    }
    if "trl_installed" in report:
        line["trl_completions_per_s"] = report["trl_installed"]["completions_per_s"]
        line["trl_tuned_completions_per_s"] = report["trl_tuned"]["completions_per_s"]
        line["ratio_vs_trl"] = ours["completions_per_s"] / line["trl_completions_per_s"]
        line["ratio_vs_trl_same_env"] = (
            ours["completions_per_s"] / line["trl_tuned_completions_per_s"]
        )
    return line


def format_report(report: dict[str, Any]) -> str:
    rows = [("rlaif-tui", report["ours"])]
    if "trl_installed" in report:
        rows += [
            ("TRL tuned (same env)", report["trl_tuned"]),
            ("TRL as installed", report["trl_installed"]),
        ]
    lines = [f"{'system':<22} {'s/step med (min-max)':>22} {'compl/s':>8} {'peak RSS':>10}"]
    for name, r in rows:
        lines.append(
            f"{name:<22} {r['s_per_step_median']:>8.2f} ({r['s_per_step_min']:.2f}-"
            f"{r['s_per_step_max']:.2f}) {r['completions_per_s']:>8.2f} "
            f"{(r['peak_rss_mb'] or 0):>8.0f} MB"
        )
    b = report["ours"].get("breakdown")
    if b:
        lines.append(
            "rlaif-tui breakdown (median s): "
            + ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in b.items())
        )
    j = json_line(report)
    if j["ratio_vs_trl"] is not None:
        lines.append(
            f"ratio vs TRL as installed: {j['ratio_vs_trl']:.2f}x; "
            f"vs TRL same env: {j['ratio_vs_trl_same_env']:.2f}x"
        )
    else:
        lines.append("TRL not installed (pip install 'rlaif-tui[bench]'): no ratios")
    return "\n".join(lines)
