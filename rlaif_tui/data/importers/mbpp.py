"""MBPP full (Austin et al. 2021): `task_id, text, code, test_setup_code, test_list,
challenge_test_list`.

- prompt: a docstring holding the task text and the first test, the convention of InCoder
  and the BigCode harness; that first test is also the problem's public test. The program
  is `prompt + completion`, and the reference is `code`.
- hidden tests: all of `test_list`, with `test_setup_code` as setup.
- `challenge_test_list` (harder extra tests, 11 tasks) is left out by default, as the
  standard harnesses do, so pass rates stay comparable; `challenge=True` appends it.
- split: the paper's ranges (1-10 few-shot prompts, 11-510 test, 511-600 validation,
  601-974 train): test -> `heldout`, the rest -> `train`; the range is kept as a tag.
- entry point: the first function the first test calls that `code` defines. Tasks 367 and
  927 call a class the record never defines; they import fine and `rlaif data check`
  reports them broken.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rlaif_tui.data.importers.common import (
    Imported,
    SourceError,
    called_names,
    defined_functions,
    docstring_prompt,
    field_of,
    make_problem,
    read_records,
)
from rlaif_tui.data.schema import Problem

Split = Literal["train", "heldout"]


def mbpp_range(task_id: int) -> str:
    """The paper's split of a task id."""
    if task_id <= 10:
        return "prompt"
    if task_id <= 510:
        return "test"
    if task_id <= 600:
        return "validation"
    return "train"


def entry_point_of(code: str, first_test: str, where: str) -> str:
    """The function under test: called in the first test and defined by the code."""
    defined = defined_functions(code)
    for name in called_names(first_test):
        if name in defined:
            return name
    called = called_names(first_test)
    if called:
        return called[0]  # the test calls something the code never defines: check reports it
    if defined:
        return defined[0]
    raise SourceError(f"{where}: test_list: the first test calls no function")


def mbpp_problem(
    *,
    pid: str,
    task_id: int,
    text: str,
    code: str,
    tests: list[str],
    setup: str,
    source: str,
    split: Split | None,
    where: str,
) -> Problem:
    """One MBPP-style problem (shared with the sanitized importer)."""
    if not tests:
        raise SourceError(f"{where}: test_list: needs at least one test")
    part = mbpp_range(task_id)
    return make_problem(
        where,
        id=pid,
        prompt=docstring_prompt(text, tests[0]),
        entry_point=entry_point_of(code, tests[0], where),
        tests={"kind": "asserts", "asserts": tests, "setup": setup},
        public_tests={"kind": "asserts", "asserts": tests[:1], "setup": setup},
        reference=code,
        split=split or ("heldout" if part == "test" else "train"),
        source=source,
        tags=[f"mbpp:{part}"],
    )


def load(src: Path, *, split: Split | None = None, challenge: bool = False) -> Imported:
    """Every record of `mbpp.jsonl`."""
    out = Imported()
    for where, record in read_records(src):
        task_id = field_of(record, where, "task_id", int)
        tests = [str(t) for t in field_of(record, where, "test_list", list)]
        if challenge:
            tests += [str(t) for t in record.get("challenge_test_list") or []]
        out.problems.append(
            mbpp_problem(
                pid=f"mbpp/{task_id}",
                task_id=task_id,
                text=field_of(record, where, "text", str),
                code=field_of(record, where, "code", str),
                tests=tests,
                setup=str(record.get("test_setup_code") or ""),
                source="mbpp",
                split=split,
                where=where,
            )
        )
    return out
