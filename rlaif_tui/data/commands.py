"""What `rlaif data validate|check|import` do, as functions returning an exit code."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

from rlaif_tui.data.schema import Problem, ProblemError, dump_problems, load_problems
from rlaif_tui.data.validate import Validation, validate_file
from rlaif_tui.progress import progress


def _summary_lines(summary: dict[str, dict[str, int]]) -> list[str]:
    return [
        f"  {name:<11}" + "  ".join(f"{key} {count}" for key, count in counts.items())
        for name, counts in summary.items()
    ]


def validate(files: list[Path], *, as_json: bool = False, out: TextIO | None = None) -> int:
    """Print every error (`file:line: field: message`) or a summary per file; 1 on errors."""
    out = out or sys.stdout
    failed = False
    for path in files:
        try:
            result = validate_file(path)
        except ProblemError as exc:
            result = Validation(errors=[str(exc)])
        failed |= bool(result.errors)
        if as_json:
            payload = {"file": str(path), "problems": len(result.problems), "errors": result.errors}
            print(json.dumps(payload | {"summary": result.summary()}), file=out)
            continue
        for error in result.errors:
            print(error, file=out)
        if result.errors:
            print(f"{path}: {len(result.errors)} error(s)", file=out)
        else:
            print(f"{path}: {len(result.problems)} problems, no errors", file=out)
            print("\n".join(_summary_lines(result.summary())), file=out)
    return 1 if failed else 0


def sample_problems(problems: list[Problem], size: int, seed: int) -> list[Problem]:
    """A deterministic sample of `size` problems, in file order."""
    if size >= len(problems):
        return problems
    keep = set(random.Random(seed).sample(range(len(problems)), size))
    return [p for i, p in enumerate(problems) if i in keep]


def check(
    path: Path,
    *,
    workers: int = 2,
    timeout_s: float = 5.0,
    memory_mb: int = 256,
    sample: int | None = None,
    seed: int = 0,
    report: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """Run references and trivial wrong answers; list broken and weak problems.

    Exit code: 0 all fine, 1 broken or weak problems, 2 an unreadable file or a sandbox that
    could not start (one `error:` line on stderr).
    """
    out = out or sys.stdout
    from rlaif_tui._reward import RewardError
    from rlaif_tui.data.check import check_problems
    from rlaif_tui.reward.runner import executor_runner

    try:
        problems = load_problems(path)
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if sample is not None:
        problems = sample_problems(problems, sample, seed)

    start = time.perf_counter()
    try:
        with (
            executor_runner(workers=workers, timeout_s=timeout_s, memory_mb=memory_mb) as run,
            progress("data check: sandbox runs", None, unit="run") as bar,
        ):
            results = check_problems(problems, run, progress=bar.update)
    except RewardError as exc:  # e.g. IsolationError: this machine cannot sandbox as required
        print(f"error: the sandbox could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    for result in results:
        if result.verdict in ("broken", "weak"):
            print(f"{result.verdict:<8}{result.id}  {result.describe()}", file=out)
        elif result.flags:
            # Passed, but the sandbox says part of the verdict was decided with less protection.
            print(f"{'flagged':<8}{result.id}  {', '.join(result.flags)}", file=out)
    counts = Counter(r.verdict for r in results)
    print(
        f"{path}: checked {len(results)} problems in {elapsed:.1f} s: "
        + ", ".join(f"{counts[v]} {v}" for v in ("ok", "broken", "weak", "unchecked")),
        file=out,
    )
    if report is not None:
        _write_atomic(report, "".join(json.dumps(r.to_dict()) + "\n" for r in results))
        print(f"per-problem report: {report}", file=out)
    return 1 if counts["broken"] or counts["weak"] else 0


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def import_file(
    fmt: str,
    src: Path,
    dest: Path,
    *,
    split: str | None = None,
    force: bool = False,
    challenge_tests: bool = False,
    out: TextIO | None = None,
) -> int:
    """Convert `src` (format `fmt`) into a problems JSONL file at `dest`; bad input is one
    `error:` line on stderr and exit code 2."""
    out = out or sys.stdout
    from rlaif_tui.data.importers import import_problems

    if dest.exists() and not force:
        print(f"error: {dest}: already exists; pass --force to replace it", file=sys.stderr)
        return 2
    options: dict[str, object] = {"split": split}
    if challenge_tests:
        if fmt != "mbpp":
            print("error: --challenge-tests applies to the mbpp format only", file=sys.stderr)
            return 2
        options["challenge"] = True
    try:
        imported = import_problems(fmt, src, **options)
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    dump_problems(imported.problems, tmp)
    tmp.replace(dest)
    for reason in imported.skipped:
        print(f"skipped {reason}", file=out)
    print(
        f"{dest}: {len(imported.problems)} problems from {src} ({fmt})"
        + (f", {len(imported.skipped)} skipped" if imported.skipped else ""),
        file=out,
    )
    return 0
