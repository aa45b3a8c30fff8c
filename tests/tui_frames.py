"""Seeded `/api/events` frames for the TUI's snapshot tests (fixed input, no daemon).

`python tests/tui_frames.py` rewrites `tests/data/tui_events.jsonl`; the snapshot tests read
that file, so their input only changes when someone regenerates it on purpose.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "data" / "tui_events.jsonl"

PROBLEMS = {
    "add_two": ('def add_two(a, b):\n    """Return a + b."""\n', "    return a + b\n"),
    "is_even": ('def is_even(n):\n    """True when n is even."""\n', "    return n % 2 == 0\n"),
    "rev_words": (
        'def rev_words(s):\n    """Reverse the order of the words in s."""\n',
        "    return ' '.join(reversed(s.split()))\n",
    ),
    "fizz": (
        'def fizz(n):\n    """\'Fizz\' if 3 divides n, else str(n)."""\n',
        "    return 'Fizz' if n % 3 == 0 else str(n)\n",
    ),
}
BAD = {
    "add_two": "    return a - b\n",
    "is_even": "    return n % 2\n",
    "rev_words": "    return s[::-1]\n",
    "fizz": "    import sys\n    sys.exit(0)\n",
}


def status(step: int, total: int, state: str = "running") -> dict[str, Any]:
    return {
        "run": "snapshot-run",
        "state": state,
        "step": step,
        "total_steps": total,
        "phase": "generate",
        "algorithm": "grpo",
        "model": "tiny-gpt2",
        "device": "cpu",
        "isolation": "namespaces",
        "eta_s": (total - step) * 4.0,
        "started_at": 1_700_000_000.0,
        "last_checkpoint": None,
        "ratings": 0,
        "settings": {
            "kl_coef": 0.04,
            "kl_target": None,
            "reward_weights": {"execution": 1.0, "judge": 0.5},
            "temperature": 0.7,
        },
    }


def sample(rng: random.Random, step: int, group: int, index: int, problem: str) -> dict[str, Any]:
    prompt, good = PROBLEMS[problem]
    ok = rng.random() < 0.3 + 0.02 * step
    completion = good if ok else BAD[problem]
    n_tests = 4
    hacked = not ok and problem == "fizz"
    passed = n_tests if ok else rng.randint(0, n_tests - 1)
    line = len(prompt.splitlines()) + 1
    outcome = {
        "id": f"s{step}-{group}-{index}",
        "status": "passed" if ok else ("error" if hacked else "failed"),
        "passed": ok,
        "tests_passed": 0 if hacked else passed,
        "tests_total": n_tests,
        "message": "" if ok else "AssertionError",
        "failure": None
        if ok
        else {
            "test": 0 if hacked else passed,
            "type": "SystemExit" if hacked else "AssertionError",
            "message": "exit before tests" if hacked else f"assert {problem}(...) == expected",
            "line": line,
        },
        "duration_s": round(0.02 + rng.random() * 0.05, 3),
        "cpu_s": 0.01,
        "peak_memory_mb": 12.0,
        "stdout_tail": "",
        "stderr_tail": "",
        "cached": False,
        "isolation": "namespaces",
        "flags": ["exit_before_tests"] if hacked else [],
    }
    execution = passed / n_tests if not hacked else 0.0
    judge = round(
        min(1.0, max(0.0, execution + rng.uniform(-0.3, 0.3) + (0.8 if hacked else 0))), 2
    )
    reward = round(execution + 0.5 * judge, 3)
    return {
        "id": f"s{step}-{group}-{index}",
        "step": step,
        "group_id": f"g{step}-{group}",
        "problem_id": problem,
        "prompt": prompt,
        "completion": completion,
        "program": prompt + completion,
        "reward": reward,
        "rewards": {"execution": execution, "judge": judge},
        "advantage": 0.0,
        "outcome": outcome,
        "flags": ["possible_reward_hack"] if hacked else [],
    }


def metrics(rng: random.Random, step: int, samples: list[dict[str, Any]]) -> dict[str, Any]:
    rewards = [s["reward"] for s in samples]
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    return {
        "step": step,
        "time": 1_700_000_000.0 + 4.0 * step,
        "reward/mean": round(mean, 4),
        "reward/std": round(std, 4),
        "reward/execution": round(
            sum(s["rewards"]["execution"] for s in samples) / len(samples), 4
        ),
        "pass/rate": round(sum(s["outcome"]["passed"] for s in samples) / len(samples), 4),
        "kl/mean": round(0.002 * step + rng.random() * 0.003, 5),
        "loss/policy": round(0.5 * math.exp(-step / 12) + rng.uniform(-0.05, 0.05), 4),
        "loss/total": round(0.55 * math.exp(-step / 12) + rng.uniform(-0.05, 0.05), 4),
        "entropy/mean": round(2.0 - 0.03 * step + rng.uniform(-0.05, 0.05), 4),
        "lr": 1e-4 * min(1.0, step / 5),
        "throughput/completions_per_s": round(4.0 + rng.uniform(-0.5, 0.5), 3),
        "time/reward_wait_share": round(0.3 + rng.uniform(-0.1, 0.1), 3),
        "groups/zero_variance": round(rng.choice([0.0, 0.25, 0.5]), 2),
    }


def frames(steps: int = 24, total: int = 40, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    recent: list[dict[str, Any]] = []
    for step in range(1, steps + 1):
        batch = [
            sample(rng, step, g, i, problem)
            for g, problem in enumerate(sorted(PROBLEMS))
            for i in range(4)
        ]
        history.append(metrics(rng, step, batch))
        recent = (recent + batch)[-64:]
    out.append(
        {
            "type": "snapshot",
            "data": {
                "status": status(steps, total),
                "metrics": history,
                "samples": recent,
                "settings_changes": [
                    {"step": 12, "time": 1_700_000_048.0, "settings": {"temperature": 0.7}}
                ],
            },
        }
    )
    out.append({"type": "log", "data": {"level": "info", "message": "replay of a seeded run"}})
    return [{"v": 1, "id": i + 1, **frame} for i, frame in enumerate(out)]


if __name__ == "__main__":
    OUT.write_text(
        "".join(json.dumps(f, sort_keys=True) + "\n" for f in frames()), encoding="utf-8"
    )
    print(f"wrote {OUT}")
