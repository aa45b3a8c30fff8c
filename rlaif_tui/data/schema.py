"""The problem schema shared by training, evaluation and `rlaif data`.

One JSON object per line of a `.jsonl` file. `tests` uses the same object as a sandbox job
(docs/architecture.md), so a problem turns into a job without translation. Only
`public_tests` may ever be shown in a prompt; `tests` stay hidden from the policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class AssertsTests(_Strict):
    """MBPP-style: assert statements that call the candidate's functions by name."""

    kind: Literal["asserts"] = "asserts"
    asserts: list[str] = Field(min_length=1)
    """Each item is one test: a single `assert ...` statement."""
    setup: str = ""
    """Trusted code run before the asserts (imports, helper values)."""


class CheckTests(_Strict):
    """HumanEval-style: `def check(candidate)` called with the function named `entry_point`."""

    kind: Literal["check"] = "check"
    check: str = Field(min_length=1)
    entry_point: str = Field(min_length=1)


class IoCase(_Strict):
    stdin: str
    stdout: str


class IoTests(_Strict):
    """APPS / CodeContests-style: the program reads stdin and its stdout is compared."""

    kind: Literal["io"] = "io"
    cases: list[IoCase] = Field(min_length=1)


Tests = Annotated[AssertsTests | CheckTests | IoTests, Field(discriminator="kind")]


class Problem(_Strict):
    """A programming problem with hidden tests and, optionally, public ones."""

    id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    """What the policy sees: a signature and docstring, or a task statement."""
    entry_point: str | None = None
    """The function under test (None for stdin/stdout programs)."""
    tests: Tests
    """Hidden tests: decide the reward, never shown to the policy."""
    public_tests: Tests | None = None
    """The only tests a prompt or a filter may see."""
    reference: str | None = None
    """A completion that passes `tests`: `program(reference)` is the reference program."""
    program_prefix: str | None = None
    """Code the completion is appended to. None: the prompt itself for function problems (the
    prompt is code, a signature and docstring) and nothing for stdin/stdout problems (the
    prompt is prose). Set it when the prompt is prose but the program needs a prelude."""
    program_suffix: str | None = None
    """Code appended after the completion, e.g. a function exposing `Solution().method`."""
    difficulty: int | None = Field(None, ge=1, le=5)
    split: Literal["train", "heldout"] = "train"
    source: str | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _entry_point_matches_check(self) -> Problem:
        if isinstance(self.tests, CheckTests) and self.entry_point is None:
            object.__setattr__(self, "entry_point", self.tests.entry_point)
        if isinstance(self.tests, CheckTests) and self.entry_point != self.tests.entry_point:
            raise ValueError(
                f"entry_point {self.entry_point!r} differs from tests.entry_point "
                f"{self.tests.entry_point!r}; make them the same function name"
            )
        return self

    def program(self, completion: str) -> str:
        """The program that runs for `completion`: prefix + completion + suffix."""
        prefix = self.program_prefix
        if prefix is None:
            prefix = "" if self.entry_point is None else self.prompt
        return prefix + completion + (self.program_suffix or "")

    def job(self, code: str, tests: Tests | None = None) -> dict[str, Any]:
        """The sandbox job that runs the program `code` (see `program`) against the hidden tests."""
        spec = tests if tests is not None else self.tests
        return {"id": self.id, "code": code, "tests": spec.model_dump(exclude_defaults=False)}


class ProblemError(ValueError):
    """A problems file that cannot be used; the message names the file and line."""


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, line
    except OSError as exc:
        raise ProblemError(f"{path}: cannot read problems: {exc.strerror or exc}") from exc


def read_problems(path: str | Path) -> tuple[list[tuple[int, Problem]], list[str]]:
    """Parse a problems JSONL file into `(line number, problem)` pairs and error lines.

    Every bad line is reported (`file:line: field: message`), not just the first; a line
    whose id repeats an earlier one is an error too.
    """
    path = Path(path)
    problems: list[tuple[int, Problem]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in _iter_lines(path):
        try:
            problem = Problem.model_validate_json(line)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = ".".join(str(p) for p in err["loc"]) or "(line)"
                errors.append(f"{path}:{number}: {field}: {err['msg']}")
            continue
        if problem.id in seen:
            errors.append(
                f"{path}:{number}: id: {problem.id!r} already used on line {seen[problem.id]}"
            )
            continue
        seen[problem.id] = number
        problems.append((number, problem))
    return problems, errors


def load_problems(path: str | Path, *, split: str | None = None) -> list[Problem]:
    """Read a problems JSONL file, failing with `file:line: field: message` on bad input."""
    numbered, errors = read_problems(path)
    if errors:
        raise ProblemError("\n".join(errors))
    return [p for _, p in numbered if split is None or p.split == split]


def dump_problems(problems: list[Problem], path: str | Path) -> None:
    """Write problems as JSONL (one object per line, stable key order)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for problem in problems:
            fh.write(json.dumps(problem.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
