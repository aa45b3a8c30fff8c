"""Replay mode: score completions someone else generated, as the standard harnesses do.

A samples file is JSONL (optionally gzipped), one completion per line:
`{"task_id": "HumanEval/0", "completion": "    return ...\\n"}` (HumanEval's harness) or
`{"problem_id": ..., "completion": ...}` (our sample records use `problem_id`). A problem may
have any number of lines; their order is the sample order. The completion is what follows the
prompt, so the program is `Problem.program(completion)`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rlaif_tui.data import Problem


class SamplesError(ValueError):
    """A samples file that cannot be used; the message names the file and line."""


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_samples(path: Path) -> dict[str, list[str]]:
    """Completions by problem id, in file order; every bad line is reported."""
    out: dict[str, list[str]] = {}
    errors: list[str] = []
    try:
        with _open(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(f"{where}: not JSON: {exc.msg}")
                    continue
                if not isinstance(record, dict):
                    errors.append(f"{where}: expected an object")
                    continue
                pid = record.get("task_id", record.get("problem_id"))
                if not isinstance(pid, str) or not pid:
                    errors.append(f"{where}: task_id: needs a `task_id` or `problem_id` string")
                    continue
                completion = record.get("completion")
                if not isinstance(completion, str):
                    errors.append(f"{where}: completion: needs a string")
                    continue
                out.setdefault(pid, []).append(completion)
    except OSError as exc:
        raise SamplesError(f"{path}: cannot read samples: {exc.strerror or exc}") from exc
    except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise SamplesError(f"{path}: cannot read samples: {exc}") from exc
    if errors:
        raise SamplesError("\n".join(errors))
    if not out:
        raise SamplesError(f"{path}: no samples")
    return out


def match_samples(
    problems: Sequence[Problem], samples: dict[str, list[str]], path: Path
) -> tuple[list[Problem], list[list[str]], list[str]]:
    """The problems that have samples, their completions, and the ids without samples.

    A sample naming a problem that is not in the problems file is an error (a wrong file or a
    renamed id would otherwise score as if it were absent)."""
    known = {p.id for p in problems}
    unknown = sorted(set(samples) - known)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise SamplesError(
            f"{path}: {len(unknown)} problem id(s) not in the problems file: {shown}"
        )
    kept = [p for p in problems if p.id in samples]
    missing = [p.id for p in problems if p.id not in samples]
    return kept, [samples[p.id] for p in kept], missing
