"""APPS (Hendrycks et al. 2021), from a JSONL export of its Hugging Face rows (`problem_id,
question, solutions, input_output, difficulty, url, starter_code`, the JSON fields encoded as
strings) or from the original directory tree (one directory per problem holding
`question.txt`, `input_output.json`, `solutions.json`, `metadata.json`, `starter_code.py`).

- Standard-input problems (no `fn_name`) become `io` problems. An input or output given as a
  list of lines is joined with newlines, as the APPS harness does.
- Call-based problems (`fn_name`) become `asserts` problems: each case calls the function
  with `inputs[i]` as the arguments. The comparison follows the APPS harness: a returned
  tuple compares as a list, and an expected value wrapped in a one-element list also
  accepts the bare element. `Solution().fn_name` is used when the program defines a
  LeetCode-style class (a suffix exposes it as a function). JSON turned integer dict keys
  into strings; as the harness does, they are turned back.
- The prompt is the paper's format (QUESTION, the question, any starter code, the call
  format, ANSWER); the program is a prelude of the standard-library imports the APPS harness
  provides (not numpy: the sandbox runs the standard library only), then the completion.
  The reference is the first solution.
- difficulty: introductory 2, interview 3, competition 5. Problems without test cases are
  skipped (and reported).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from rlaif_tui.data.importers.common import (
    Imported,
    SkipRecord,
    SourceError,
    call_source,
    json_field,
    make_problem,
    py_literal,
    read_records,
    solution_shim,
)
from rlaif_tui.data.schema import Problem

Split = Literal["train", "heldout"]

DIFFICULTY = {"introductory": 2, "interview": 3, "competition": 5}

PRELUDE = """\
import sys, math, heapq, itertools, collections, fractions, random, time
from collections import Counter, OrderedDict, ChainMap, defaultdict, deque
from functools import lru_cache
from heapq import heapify, heappop, heappush, heappushpop, heapreplace, nlargest, nsmallest
from itertools import accumulate, combinations, permutations, product
from math import ceil, cos, exp, fabs, floor, gcd, log, log2, sin, sqrt, tan
from typing import List, Tuple
"""

# Trusted: runs in the test harness, never in the candidate's process.
EQUAL_SETUP = '''\
def _apps_equal(got, want):
    """APPS call-based equality (tuples as lists; [x] also accepts x)."""
    if isinstance(got, tuple):
        got = list(got)
    if got == want:
        return True
    first = want[0] if isinstance(want, list) and want else None
    if first is not None and got == first:
        return True
    if isinstance(got, list) and got and isinstance(got[0], tuple):
        return [list(x) for x in got] == first
    return False
'''


def _int_keys(value: Any) -> Any:
    """{"1": x} -> {1: x} when every key is an integer written as a string."""
    if isinstance(value, dict) and value and all(_is_int(k) for k in value):
        return {int(k): v for k, v in value.items()}
    return value


def _is_int(key: object) -> bool:
    return isinstance(key, str) and key.lstrip("-").isdigit()


def _lines(value: Any) -> str:
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _prompt(question: str, starter: str, call_based: bool) -> str:
    fmt = "Use Call-Based format" if call_based else "Use Standard Input format"
    starter_part = starter if not starter or starter.endswith("\n") else starter + "\n"
    return f"\nQUESTION:\n{question}\n{starter_part}{fmt}\nANSWER:\n"


def apps_problem(where: str, pid: str, record: dict[str, Any], split: Split | None) -> Problem:
    """One APPS problem; `SourceError` if it has no usable tests."""
    io = json_field(record, where, "input_output")
    if not isinstance(io, dict) or not io.get("inputs"):
        raise SkipRecord(f"{where}: input_output: no test cases")
    inputs, outputs = io["inputs"], io.get("outputs") or []
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise SourceError(f"{where}: input_output: inputs and outputs differ in length")
    solutions = json_field(record, where, "solutions") or []
    question = str(record.get("question") or "")
    starter = str(record.get("starter_code") or "")
    fn_name = io.get("fn_name")
    fields: dict[str, Any] = {
        "id": pid,
        "reference": solutions[0] if solutions and isinstance(solutions[0], str) else None,
        "difficulty": DIFFICULTY.get(str(record.get("difficulty") or "")),
        "split": split or "train",
        "source": "apps",
        "program_prefix": PRELUDE,
        "tags": [f"apps:{record['difficulty']}"] if record.get("difficulty") else [],
    }
    if fn_name:
        asserts = []
        for i, (args, want) in enumerate(zip(inputs, outputs, strict=True)):
            if not isinstance(args, list):
                raise SourceError(f"{where}: input_output.inputs.{i}: expected a list of arguments")
            if args:
                args = [_int_keys(args[0]), *args[1:]]
            if isinstance(want, list) and want:
                want = [_int_keys(want[0]), *want[1:]]
            try:
                call = call_source(fn_name, args)
                asserts.append(f"assert _apps_equal({call}, {py_literal(_int_keys(want))})")
            except ValueError as exc:
                raise SourceError(f"{where}: input_output.{i}: {exc}") from exc
        fields |= {
            "prompt": _prompt(question, starter, call_based=True),
            "entry_point": fn_name,
            "tests": {"kind": "asserts", "asserts": asserts, "setup": EQUAL_SETUP},
            "program_suffix": solution_shim(fn_name),
        }
    else:
        cases = [
            {"stdin": _lines(i), "stdout": _lines(o)} for i, o in zip(inputs, outputs, strict=True)
        ]
        fields |= {
            "prompt": _prompt(question, starter, call_based=False),
            "tests": {"kind": "io", "cases": cases},
        }
    return make_problem(where, **fields)


def _directory_records(root: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    dirs = sorted(d for d in root.iterdir() if d.is_dir() and (d / "question.txt").exists())
    for d in dirs:
        record: dict[str, Any] = {"question": (d / "question.txt").read_text(encoding="utf-8")}
        for name, key in (("input_output.json", "input_output"), ("solutions.json", "solutions")):
            if (d / name).exists():
                record[key] = (d / name).read_text(encoding="utf-8")
        if (d / "starter_code.py").exists():
            record["starter_code"] = (d / "starter_code.py").read_text(encoding="utf-8")
        if (d / "metadata.json").exists():
            try:
                meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise SourceError(f"{d / 'metadata.json'}: not valid JSON: {exc.msg}") from exc
            record |= {k: meta[k] for k in ("difficulty", "url") if k in meta}
        pid = str(int(d.name)) if d.name.isdigit() else d.name
        yield str(d), pid, record


def load(src: Path, *, split: Split | None = None) -> Imported:
    """APPS problems from a JSONL/JSON export or a directory tree (e.g. `APPS/test`)."""
    out = Imported()
    if src.is_dir():
        records = _directory_records(src)
    else:
        records = (
            (where, str(r.get("problem_id", where.rsplit(":", 1)[-1])), r)
            for where, r in read_records(src)
        )
    for where, pid, record in records:
        try:
            out.problems.append(apps_problem(where, f"apps/{pid}", record, split))
        except SkipRecord as exc:
            out.skipped.append(str(exc))
    return out
