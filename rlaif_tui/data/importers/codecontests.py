"""CodeContests (Li et al. 2022, AlphaCode), from a JSONL export of its rows: `name,
description, public_tests, private_tests, generated_tests` (each `{"input": [...], "output":
[...]}`), `solutions` (`{"language": [...], "solution": [...]}`), `cf_rating`, `input_file`,
`output_file`, ...

- All problems are stdin/stdout (`io`). Hidden tests: public + private + generated cases
  (duplicates dropped), so a program that passes the hidden tests passes the shown ones;
  public tests: the public cases, the only ones AlphaCode-style filtering may use.
- The reference is the first Python 3 solution (language 3, `PYTHON3`); Python 2 solutions
  are not used. Problems whose answers need a special checker (several correct outputs) will
  show up as broken in `rlaif data check`, since outputs are compared exactly.
- Problems that read or write named files (`input_file`/`output_file`) are skipped.
- difficulty from `cf_rating`: < 1200 -> 1, < 1600 -> 2, < 2000 -> 3, < 2400 -> 4, else 5;
  none without a rating.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from rlaif_tui.data.importers.common import (
    Imported,
    SkipRecord,
    SourceError,
    field_of,
    make_problem,
    read_records,
)
from rlaif_tui.data.schema import Problem

Split = Literal["train", "heldout"]
PYTHON3 = (3, "PYTHON3")


def _cases(record: dict[str, Any], where: str, name: str) -> list[dict[str, str]]:
    block = record.get(name) or {}
    if not isinstance(block, dict):
        raise SourceError(f"{where}: {name}: expected an object with input/output lists")
    inputs, outputs = block.get("input") or [], block.get("output") or []
    if len(inputs) != len(outputs):
        raise SourceError(f"{where}: {name}: input and output lists differ in length")
    return [{"stdin": str(i), "stdout": str(o)} for i, o in zip(inputs, outputs, strict=True)]


def _difficulty(rating: object) -> int | None:
    if not isinstance(rating, int) or rating <= 0:
        return None
    return 1 + sum(rating >= bound for bound in (1200, 1600, 2000, 2400))


def _reference(record: dict[str, Any]) -> str | None:
    block = record.get("solutions") or {}
    languages = block.get("language") or []
    for language, solution in zip(languages, block.get("solution") or [], strict=False):
        if language in PYTHON3:
            return str(solution)
    return None


def codecontests_problem(where: str, record: dict[str, Any], split: Split | None) -> Problem:
    name = field_of(record, where, "name", str)
    if record.get("input_file") or record.get("output_file"):
        raise SkipRecord(f"{where}: {name}: reads or writes named files, not stdin/stdout")
    public = _cases(record, where, "public_tests")
    hidden: list[dict[str, str]] = []
    for case in (
        public + _cases(record, where, "private_tests") + _cases(record, where, "generated_tests")
    ):
        if case not in hidden:
            hidden.append(case)
    if not hidden:
        raise SkipRecord(f"{where}: {name}: no test cases")
    return make_problem(
        where,
        id=f"codecontests/{name}",
        prompt=field_of(record, where, "description", str),
        tests={"kind": "io", "cases": hidden},
        public_tests={"kind": "io", "cases": public} if public else None,
        reference=_reference(record),
        difficulty=_difficulty(record.get("cf_rating")),
        split=split or "train",
        source="codecontests",
        tags=[str(t) for t in record.get("cf_tags") or []],
    )


def load(src: Path, *, split: Split | None = None) -> Imported:
    """Every usable record of a CodeContests JSONL/JSON export."""
    out = Imported()
    for where, record in read_records(src):
        try:
            out.problems.append(codecontests_problem(where, record, split))
        except SkipRecord as exc:
            out.skipped.append(str(exc))
    return out
