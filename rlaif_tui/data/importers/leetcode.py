"""LeetCode-style JSON: records with `prompt`, `solution` and `test_cases`, each
`{"input": ..., "output": ...}`; a JSON array, `{"problems": [...]}` or JSONL.

Optional fields: `id` (or `task_id`, `slug`, `question_id`, `title`), `entry_point` (or
`fn_name`), `difficulty` (`Easy`/`Medium`/`Hard` -> 2/3/5, or 1-5), `split`, `tags`.

- `input` is the call's arguments, in any of the forms such files use: LeetCode's example
  text `nums = [2,7,11,15], target = 9` (named values, passed by position in the order
  given), one value per line (`[2,7,11,15]\\n9`), a JSON list of arguments, or a JSON object
  of named arguments. `true`/`false`/`null` are read as JSON.
- `output` is the expected return value: a JSON value, or text holding a literal; text that
  is no literal is the expected string itself. Floats compare with a 1e-5 tolerance.
- entry point: given, else the first public method of `class Solution`, else the top-level
  function the prompt names (else the last one). A suffix exposes `Solution().method` as
  a function, and a prelude supplies the imports LeetCode's judge provides (`List`, ...).
- The prompt is prose, so the completion is the whole program (after the prelude).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Literal

from rlaif_tui.data.importers.common import (
    Imported,
    SourceError,
    call_source,
    defined_functions,
    field_of,
    make_problem,
    py_literal,
    read_records,
    solution_methods,
    solution_shim,
)
from rlaif_tui.data.schema import Problem
from rlaif_tui.data.validate import parse_source

Split = Literal["train", "heldout"]

DIFFICULTY = {"easy": 2, "medium": 3, "hard": 5}

PRELUDE = """\
from typing import *
from collections import *
from functools import *
from itertools import *
from heapq import *
from bisect import *
import math, string, re
"""

_JSON_NAMES = {"true": True, "false": False, "null": None}


class _JsonNames(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _JSON_NAMES:
            return ast.copy_location(ast.Constant(_JSON_NAMES[node.id]), node)
        return node


def _call_args(text: str) -> list[Any] | None:
    """Arguments of `f(<text>)` if every one is a literal, else None."""
    module, _ = parse_source(f"f({text})")
    if module is None or len(module.body) != 1 or not isinstance(module.body[0], ast.Expr):
        return None
    call = _JsonNames().visit(module.body[0].value)
    if not isinstance(call, ast.Call):
        return None
    try:
        values = [ast.literal_eval(a) for a in call.args]
        values += [ast.literal_eval(k.value) for k in call.keywords]
    except ValueError:
        return None
    if call.args and call.keywords:
        return None  # mixing positional and named values is not a form these files use
    return values


def parse_input(value: Any) -> list[Any]:
    """The positional arguments a test case's `input` stands for."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if not isinstance(value, str):
        return [value]
    for text in (value, ", ".join(line for line in value.splitlines() if line.strip())):
        args = _call_args(text)
        if args is not None:
            return args
    raise ValueError(f"cannot read {value[:60]!r} as arguments")


def parse_output(value: Any) -> Any:
    """The expected return value a test case's `output` stands for."""
    if not isinstance(value, str):
        return value
    args = _call_args(value)
    return args[0] if args is not None and len(args) == 1 else value


def _entry_point(record: dict[str, Any], solution: str, prompt: str, where: str) -> str:
    for key in ("entry_point", "fn_name"):
        if isinstance(record.get(key), str) and record[key]:
            return str(record[key])
    methods = solution_methods(solution)
    if methods:
        return methods[0]
    functions = [f for f in defined_functions(solution) if f != "Solution"]
    named = [f for f in functions if re.search(rf"\b{re.escape(f)}\s*\(", prompt)]
    if named or functions:
        return (named or functions)[-1]
    raise SourceError(f"{where}: solution: defines no function or class Solution")


def _assertion(entry_point: str, args: list[Any], want: Any) -> str:
    call = call_source(entry_point, args)
    if isinstance(want, float):
        return f"assert math.isclose({call}, {py_literal(want)}, rel_tol=1e-5, abs_tol=1e-5)"
    return f"assert {call} == {py_literal(want)}"


def _difficulty(value: object) -> int | None:
    if isinstance(value, int) and 1 <= value <= 5:
        return value
    return DIFFICULTY.get(str(value).lower()) if value is not None else None


def _id(record: dict[str, Any], index: int) -> str:
    for key in ("id", "task_id", "slug", "question_id", "title"):
        if record.get(key) not in (None, ""):
            return f"leetcode/{record[key]}"
    return f"leetcode/{index}"


def leetcode_problem(
    where: str, record: dict[str, Any], split: Split | None, index: int = 0
) -> Problem:
    prompt = field_of(record, where, "prompt", str)
    solution = field_of(record, where, "solution", str)
    cases = field_of(record, where, "test_cases", list)
    entry_point = _entry_point(record, solution, prompt, where)
    asserts = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "input" not in case or "output" not in case:
            raise SourceError(f"{where}: test_cases.{i}: expected an object with input and output")
        try:
            args = parse_input(case["input"])
            asserts.append(_assertion(entry_point, args, parse_output(case["output"])))
        except ValueError as exc:
            raise SourceError(f"{where}: test_cases.{i}: {exc}") from exc
    record_split = record.get("split")
    return make_problem(
        where,
        id=_id(record, index),
        prompt=prompt,
        entry_point=entry_point,
        tests={"kind": "asserts", "asserts": asserts, "setup": "import math\n"},
        reference=solution,
        difficulty=_difficulty(record.get("difficulty")),
        split=split or (record_split if record_split in ("train", "heldout") else "train"),
        source="leetcode",
        tags=[str(t) for t in record.get("tags") or []],
        program_prefix=PRELUDE,
        program_suffix=solution_shim(entry_point),
    )


def load(src: Path, *, split: Split | None = None) -> Imported:
    """Every record of a LeetCode-style JSON/JSONL file."""
    out = Imported()
    for index, (where, record) in enumerate(read_records(src)):
        out.problems.append(leetcode_problem(where, record, split, index))
    return out
