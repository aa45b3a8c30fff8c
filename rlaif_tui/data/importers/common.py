"""What the importers share: reading source files, named errors, Python literals for tests."""

from __future__ import annotations

import ast
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlaif_tui.data.schema import Problem, ProblemError
from rlaif_tui.data.validate import parse_source


class SourceError(ProblemError):
    """A source file that cannot be imported; the message names the file, record and field."""


class SkipRecord(Exception):
    """A record its format allows but that cannot become a problem (e.g. it has no tests)."""


@dataclass
class Imported:
    """Problems read from a source, and records left out with the reason for each."""

    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _open_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text: {exc}") from exc


def read_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """`(where, record)` for each object in a JSON array, `{"problems": [...]}` or JSONL file.

    `where` is `file:line` for JSONL and `file[index]` for JSON, for error messages.
    """
    text = _open_text(path)
    data: Any = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("["):
            raise SourceError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and isinstance(data.get("problems"), list):
        data = data["problems"]
    if isinstance(data, list):
        for i, record in enumerate(data):
            if not isinstance(record, dict):
                raise SourceError(f"{path}[{i}]: expected an object, got {type(record).__name__}")
            yield f"{path}[{i}]", record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise SourceError(f"{path}:{number}: expected an object, got {type(record).__name__}")
        yield f"{path}:{number}", record


def field_of(record: dict[str, Any], where: str, name: str, kind: type | tuple[type, ...]) -> Any:
    """`record[name]`, checked against `kind`, or an error naming the record and field."""
    if name not in record:
        raise SourceError(f"{where}: {name}: field required")
    value = record[name]
    if not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise SourceError(f"{where}: {name}: expected {expected}, got {type(value).__name__}")
    return value


def json_field(record: dict[str, Any], where: str, name: str) -> Any:
    """A field that is JSON either inline or encoded as a string (as Hugging Face exports do)."""
    value = record.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{where}: {name}: not valid JSON: {exc.msg}") from exc
    return value


def docstring_prompt(text: str, example: str | None) -> str:
    """A prompt that is a module docstring: the task and one example test.

    The InCoder convention (Fried et al. 2022) that the BigCode evaluation harness uses for
    MBPP; since it is valid Python, the program is `prompt + completion`.
    """
    body = text.strip().replace('"""', '\\"\\"\\"')
    if example:
        body += "\n" + example.strip().replace('"""', '\\"\\"\\"')
    return f'"""\n{body}\n"""\n'


def called_names(source: str) -> list[str]:
    """Names of functions called in `source`, in order of first appearance."""
    tree, _ = parse_source(source)
    if tree is None:
        return []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    names: list[str] = []
    for call in calls:
        assert isinstance(call.func, ast.Name)
        if call.func.id not in names:
            names.append(call.func.id)
    return names


def defined_functions(source: str) -> list[str]:
    """Top-level function and class names defined in `source`, in order."""
    tree, _ = parse_source(source)
    if tree is None:
        return []
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]


def solution_methods(source: str) -> list[str]:
    """Public method names of a LeetCode-style `class Solution` in `source`, in order."""
    tree, _ = parse_source(source)
    if tree is None:
        return []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Solution":
            return [
                m.name
                for m in node.body
                if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")
            ]
    return []


def solution_shim(entry_point: str) -> str:
    """Suffix exposing `Solution().<entry_point>` as a function when the program defines
    a LeetCode-style class and no such function (as the APPS harness calls it)."""
    return (
        f'\n\nif "Solution" in globals() and not callable(globals().get("{entry_point}")):\n'
        f"    def {entry_point}(*args, **kwargs):\n"
        f"        return Solution().{entry_point}(*args, **kwargs)\n"
    )


def call_source(entry_point: str, args: list[Any]) -> str:
    """`entry_point(arg, ...)` with each argument written as a Python literal."""
    return f"{entry_point}({', '.join(py_literal(a) for a in args)})"


def py_literal(value: Any) -> str:
    """Python source for a JSON value (repr of dict/list/str/int/float/bool/None)."""
    text = repr(value)
    try:
        if ast.literal_eval(text) != value:
            raise ValueError(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"cannot write {type(value).__name__} as a Python literal") from exc
    return text


def make_problem(where: str, **fields: Any) -> Problem:
    """A `Problem`, or an error naming the source record and the field that is wrong."""
    try:
        return Problem.model_validate(fields)
    except ValidationError as exc:
        msgs = [
            f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
        raise SourceError(f"{where}: cannot build a problem: " + "; ".join(msgs)) from exc
