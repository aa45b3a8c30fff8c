"""The pinned RL workload of `shared/benchmarks/rl-workload.md` (sections A-C).

Tiny GPT-2 from a pinned config, HumanEval/0-31 prompts in the section C schedule, 8 x 8
completions of at most 96 tokens, binary reward from a fresh `python3` per program.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore, chain

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
STATE_SHA256 = "e1259d4ced2a4398addd9af15439f0abaca79e70e8750f99b1295bf79a086dde"
SCHEDULE: list[list[int]] = [
    [6, 7, 13, 18, 22, 24, 28, 31],  # step 1: warm-up
    [2, 4, 8, 10, 16, 21, 23, 30],
    [0, 1, 9, 17, 19, 25, 27, 29],
    [3, 5, 11, 12, 14, 15, 20, 26],
    [0, 1, 4, 7, 14, 21, 26, 31],
    [3, 6, 8, 11, 12, 23, 29, 30],
]
GROUP = 8
MAX_NEW = 96
BETA = 0.04
LR = 1e-5


def benchmarks_dir() -> Path:
    """`$RLAIF_BENCHMARKS`, else the nearest `shared/benchmarks` beside a parent directory."""
    env = os.environ.get("RLAIF_BENCHMARKS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "shared" / "benchmarks").is_dir():
            return parent / "shared" / "benchmarks"
    return here.parents[3] / "shared" / "benchmarks"


def humaneval(limit: int = 32) -> list[dict[str, Any]]:
    path = benchmarks_dir() / "HumanEval.jsonl.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: HumanEval not found (set RLAIF_BENCHMARKS)")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != HUMANEVAL_SHA256:
        raise ValueError(f"{path}: sha256 differs from the pinned HumanEval file")
    rows = [json.loads(line) for line in gzip.decompress(raw).decode().splitlines() if line]
    return rows[:limit]


def state_sha256(model: Any) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def pinned_model_dir() -> tuple[Path, str]:
    """Build (once) and save the pinned tiny GPT-2 + ByT5 tokenizer; (path, state sha256)."""
    from rlaif_tui.models.tiny import TinySpec, build_tiny
    from rlaif_tui.models.warmstart import cache_root

    path = cache_root() / "bench" / "tiny-gpt2-pinned"
    model, tokenizer = build_tiny(TinySpec())  # seed 0, dropout 0.1 on disk as pinned
    sha = state_sha256(model)
    if not (path / "config.json").exists():
        path.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
    return path, sha


def problems_file(directory: Path) -> Path:
    """The section C schedule as a problems JSONL in step order (one row per prompt use)."""
    rows = humaneval()
    out = directory / "schedule.jsonl"
    with out.open("w") as fh:
        for step, numbers in enumerate(SCHEDULE, start=1):
            for n in numbers:
                r = rows[n]
                fh.write(
                    json.dumps(
                        {
                            "id": f"{r['task_id']}@step{step}",
                            "prompt": r["prompt"],
                            "entry_point": r["entry_point"],
                            "tests": {
                                "kind": "check",
                                "check": r["test"],
                                "entry_point": r["entry_point"],
                            },
                            "source": "HumanEval",
                        }
                    )
                    + "\n"
                )
    return out


def workload_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    return prompt + completion + "\n" + test + f"\ncheck({entry_point})"


def run_program(program: str, timeout_s: float = 3.0) -> float:
    """1.0 if the program exits 0 within the limit in a fresh interpreter, else 0.0."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "prog.py").write_text(program)
        try:
            done = subprocess.run(
                [sys.executable, "prog.py"],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return 0.0
    return 1.0 if done.returncode == 0 else 0.0


class WorkloadReward(SourceBase):
    """The workload's own reward (section B) as a reward source: 2 programs at a time."""

    name = "execution"

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.seen: list[list[str]] = []

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        self.seen.append([r.problem.id for r in requests[::GROUP]])
        programs = []
        for r in requests:
            tests = r.problem.tests
            assert tests.kind == "check"
            programs.append(
                workload_program(r.problem.prompt, r.completion, tests.check, tests.entry_point)
            )
        futures = [self.pool.submit(run_program, p) for p in programs]
        gathered: Future[list[float]] = Future()
        remaining = [len(futures)]
        lock = threading.Lock()

        def one_done(_: Future[float]) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                gathered.set_result([f.result() for f in futures])

        for f in futures:
            f.add_done_callback(one_done)
        return chain(gathered, lambda vals: [SourceScore(v) for v in vals])

    def close(self) -> None:
        self.pool.shutdown()


def self_test() -> tuple[int, int]:
    """(canonical solutions passing, `pass` bodies passing) over HumanEval/0-31: (32, 0)."""
    rows = humaneval()
    ok = sum(
        run_program(
            workload_program(r["prompt"], r["canonical_solution"], r["test"], r["entry_point"])
        )
        for r in rows
    )
    bad = sum(
        run_program(workload_program(r["prompt"], "    pass\n", r["test"], r["entry_point"]))
        for r in rows
    )
    return int(ok), int(bad)
