"""`rlaif sandbox run`: JSONL jobs in, JSONL outcomes (or a table) out, in input order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rlaif_tui.reward.executor import Executor
from rlaif_tui.reward.job import Job, JobError
from rlaif_tui.reward.outcome import Outcome

CHUNK = 256
"""Jobs per batch: outcomes stream out while later lines are still being read."""


def parse_lines(lines: Iterator[str], source: str) -> Iterator[Job | Outcome]:
    """Each non-blank line becomes a `Job`, or an `invalid` outcome naming the line."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Outcome.invalid(
                f"line {n}", f"{source}:{n}: invalid JSON: {exc.msg} (column {exc.colno})"
            )
            continue
        raw_id = data.get("id") if isinstance(data, dict) else None
        try:
            yield Job.from_dict(data)
        except JobError as exc:
            yield Outcome.invalid(
                str(raw_id) if isinstance(raw_id, str) and raw_id else f"line {n}",
                f"{source}:{n}: {exc}",
            )


def _chunks(items: Iterator[Job | Outcome], size: int) -> Iterator[list[Job | Outcome]]:
    chunk: list[Job | Outcome] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_jsonl(
    path: str,
    *,
    workers: int,
    timeout_s: float,
    memory_mb: int,
    isolation_floor: str,
    table: bool,
    out: IO[str] | None = None,
) -> list[Outcome]:
    """Run the jobs of a JSONL file (`-` for stdin); write outcomes; return them."""
    out = out or sys.stdout
    stream = sys.stdin if path == "-" else Path(path).open(encoding="utf-8")  # noqa: SIM115
    source = "<stdin>" if path == "-" else path
    results: list[Outcome] = []
    try:
        with Executor(
            workers=workers,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            isolation_floor=isolation_floor,
        ) as ex:
            for chunk in _chunks(parse_lines(iter(stream), source), CHUNK):
                jobs = [item for item in chunk if isinstance(item, Job)]
                ran = iter(ex.run(jobs))
                done = [item if isinstance(item, Outcome) else next(ran) for item in chunk]
                results.extend(done)
                if not table:
                    for o in done:
                        out.write(o.to_json() + "\n")
                    out.flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
    if table:
        print_table(results, Console(file=out, width=140))
    return results


STATUS_STYLE = {"passed": "green", "failed": "yellow", "invalid": "magenta"}


def print_table(outcomes: list[Outcome], console: Console) -> None:
    t = Table(title="sandbox outcomes", expand=False)
    for col in ("id", "status", "tests", "time", "cpu", "mem MB", "isolation", "message"):
        t.add_column(col, overflow="fold", max_width=60 if col == "message" else None)
    for o in outcomes:
        style = STATUS_STYLE.get(o.status, "red")
        message = escape(o.message + (f"  [{', '.join(o.flags)}]" if o.flags else ""))
        t.add_row(
            escape(o.id),
            f"[{style}]{o.status}[/]",
            f"{o.tests_passed}/{o.tests_total}",
            f"{o.duration_s:.3f}s",
            f"{o.cpu_s:.3f}s",
            f"{o.peak_memory_mb:.0f}",
            o.isolation,
            message,
        )
    console.print(t)
    passed = sum(o.passed for o in outcomes)
    console.print(f"{passed}/{len(outcomes)} jobs passed")
