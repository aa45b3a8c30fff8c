"""Real inputs for evaluation tests: HumanEval imported into a temp file, a tiny smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlaif_tui.data import Problem, dump_problems

REPO = Path(__file__).resolve().parent.parent
QUICKSTART_PROBLEMS = REPO / "data" / "quickstart" / "problems.jsonl"


def import_humaneval(shared_benchmarks: Path, out: Path) -> list[Problem]:
    """HumanEval through the project's importer, written to `out` (read in place, not copied)."""
    from rlaif_tui.data.importers import import_problems

    src = shared_benchmarks / "HumanEval.jsonl.gz"
    if not src.exists():
        pytest.skip(f"{src} is absent (benchmarks are read in place, never copied into the repo)")
    problems = import_problems("humaneval", src).problems
    dump_problems(problems, out)
    return problems


def write_samples(path: Path, rows: list[tuple[str, str]], key: str = "task_id") -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for pid, completion in rows:
            fh.write(json.dumps({key: pid, "completion": completion}) + "\n")
    return path


def smoke_run(root: Path, steps: int = 2) -> Path:
    """`rlaif train --config configs/smoke.yaml --steps N` into `root/run` (real sandbox)."""
    from rlaif_tui.config import load_config
    from rlaif_tui.config.train import TrainConfig
    from rlaif_tui.train.loop import train

    cfg = load_config(REPO / "configs" / "smoke.yaml", TrainConfig, {"run.steps": steps})
    run = root / "run"
    assert train(cfg, run) == 0
    return run
