"""Locate the shared benchmark files (read in place, never copied into the repository)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import rlaif_tui


def find_benchmark(name: str) -> Path | None:
    """`$RLAIF_BENCHMARKS/name`, else `shared/benchmarks/name` beside the checkout or any
    directory above it (the checkout's `../shared/benchmarks`)."""
    env = os.environ.get("RLAIF_BENCHMARKS")
    if env:
        p = Path(env) / name
        return p if p.exists() else None
    starts = [Path.cwd(), Path(rlaif_tui.__file__).resolve().parent]
    for start in starts:
        for d in [start, *start.parents]:
            p = d / "shared" / "benchmarks" / name
            if p.exists():
                return p
    return None


def humaneval() -> list[dict[str, Any]] | None:
    path = find_benchmark("HumanEval.jsonl.gz")
    if path is None:
        return None
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def mbpp_sanitized() -> list[dict[str, Any]] | None:
    path = find_benchmark("sanitized-mbpp.json")
    if path is None:
        return None
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def humaneval_job(p: dict[str, Any], code: str | None = None, suffix: str = "") -> dict[str, Any]:
    """A `check` job for a HumanEval problem (canonical solution unless `code` is given)."""
    body = p["prompt"] + p["canonical_solution"] if code is None else code
    return {
        "id": p["task_id"] + suffix,
        "code": body,
        "tests": {"kind": "check", "check": p["test"], "entry_point": p["entry_point"]},
    }


def humaneval_wrong(p: dict[str, Any]) -> dict[str, Any]:
    """A wrong solution to each problem: the right signature, returning None."""
    return humaneval_job(p, code=p["prompt"] + "    return None\n", suffix="/wrong")
