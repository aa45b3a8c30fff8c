"""`rlaif data validate`: schema errors plus what can be checked without running anything.

Beyond the schema (`read_problems`), each problem's Python must parse: every `asserts` item is
exactly one `assert` statement, `setup` parses, a `check` source defines `check`, and the
reference program (`Problem.program(reference)`) compiles and defines the entry point.
Running the reference is `rlaif data check`'s job.
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rlaif_tui.data.schema import AssertsTests, CheckTests, Problem, Tests, read_problems


def parse_source(source: str) -> tuple[ast.Module | None, str | None]:
    """The module's syntax tree, or None and the error (`message (line N)`)."""
    try:
        with warnings.catch_warnings():
            # e.g. an invalid escape like "\d" in a regex: Python runs it, with a warning
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return ast.parse(source), None
    except SyntaxError as exc:
        return None, f"{exc.msg} (line {exc.lineno})"
    except ValueError as exc:  # e.g. a NUL byte in the source
        return None, str(exc)


def _module_names(body: list[ast.stmt]) -> set[str]:
    """Names bound at module level, looking inside if/try/with blocks too."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
            for block in ("body", "orelse", "finalbody"):
                names |= _module_names(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                names |= _module_names(handler.body)
    return names


def count_tests(tests: Tests) -> int:
    """How many tests a spec holds (for a `check` source: its assert statements)."""
    if isinstance(tests, AssertsTests):
        return len(tests.asserts)
    if isinstance(tests, CheckTests):
        module, _ = parse_source(tests.check)
        if module is None:
            return 0
        return sum(isinstance(n, ast.Assert) for n in ast.walk(module))
    return len(tests.cases)


def _tests_errors(tests: Tests, where: str) -> list[str]:
    errors: list[str] = []
    if isinstance(tests, AssertsTests):
        for i, item in enumerate(tests.asserts):
            module, err = parse_source(item)
            if module is None:
                errors.append(f"{where}.asserts.{i}: does not parse: {err}")
            elif len(module.body) != 1 or not isinstance(module.body[0], ast.Assert):
                errors.append(f"{where}.asserts.{i}: must be exactly one assert statement")
        if tests.setup:
            _, err = parse_source(tests.setup)
            if err:
                errors.append(f"{where}.setup: does not parse: {err}")
    elif isinstance(tests, CheckTests):
        module, err = parse_source(tests.check)
        if module is None:
            errors.append(f"{where}.check: does not parse: {err}")
        elif "check" not in _module_names(module.body):
            errors.append(f"{where}.check: defines no function `check(candidate)`")
    return errors


def problem_errors(problem: Problem) -> list[str]:
    """`field: message` for everything statically wrong with one problem."""
    errors = _tests_errors(problem.tests, "tests")
    if problem.public_tests is not None:
        errors += _tests_errors(problem.public_tests, "public_tests")
    if problem.reference is not None:
        module, err = parse_source(problem.program(problem.reference))
        if module is None:
            errors.append(f"reference: the reference program does not compile: {err}")
        elif problem.entry_point and problem.entry_point not in _module_names(module.body):
            errors.append(f"entry_point: the reference program defines no {problem.entry_point!r}")
    return errors


@dataclass
class Validation:
    """The problems that loaded and every error, each `file:line: field: message`."""

    problems: list[Problem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts by split, difficulty, test kind, and how many have references/public tests."""
        return {
            "split": dict(sorted(Counter(p.split for p in self.problems).items())),
            "difficulty": dict(
                sorted(Counter(str(p.difficulty or "-") for p in self.problems).items())
            ),
            "kind": dict(sorted(Counter(p.tests.kind for p in self.problems).items())),
            "with": {
                "reference": sum(p.reference is not None for p in self.problems),
                "public_tests": sum(p.public_tests is not None for p in self.problems),
            },
        }


def validate_file(path: str | Path) -> Validation:
    """Load `path` and collect schema and static errors for every line."""
    numbered, errors = read_problems(path)
    result = Validation(errors=list(errors))
    for number, problem in numbered:
        found = problem_errors(problem)
        result.errors += [f"{path}:{number}: {e}" for e in found]
        if not found:
            result.problems.append(problem)
    result.errors.sort(key=lambda e: _line_of(e, str(path)))
    return result


def _line_of(error: str, path: str) -> int:
    rest = error[len(path) + 1 :]
    head = rest.split(":", 1)[0]
    return int(head) if head.isdigit() else 0
