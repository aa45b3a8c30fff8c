from __future__ import annotations

import ast
import re
from collections import Counter

import pytest

from rlaif_tui.data import AssertsTests, IoTests, Problem, bundled_path, bundled_problems
from rlaif_tui.data.validate import count_tests, validate_file


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return bundled_problems()


def test_the_bundled_set_validates_without_errors() -> None:
    result = validate_file(bundled_path())
    assert result.errors == []
    assert len(result.problems) >= 200


def test_size_splits_difficulties_kinds_and_ids(problems: list[Problem]) -> None:
    assert len(problems) >= 200
    assert len({p.id for p in problems}) == len(problems)
    by_split = Counter(p.split for p in problems)
    assert set(by_split) == {"train", "heldout"}
    assert 0.2 <= by_split["heldout"] / len(problems) <= 0.3
    for level in range(1, 6):
        # Stratified: each difficulty has problems in both splits.
        splits = {p.split for p in problems if p.difficulty == level}
        assert splits == {"train", "heldout"}, f"difficulty {level}: {splits}"
    kinds = Counter(p.tests.kind for p in problems)
    assert set(kinds) == {"asserts", "check", "io"}
    assert kinds["io"] < kinds["asserts"] + kinds["check"]  # mostly function problems
    assert all(p.reference and p.source == "rlaif-tui" for p in problems)


def test_every_problem_has_at_least_three_hidden_tests(problems: list[Problem]) -> None:
    few = [p.id for p in problems if count_tests(p.tests) < 3]
    assert few == []


def test_prompts_show_only_public_tests(problems: list[Problem]) -> None:
    """A function prompt's examples are exactly its public tests; io prompts show the
    public cases and nothing from the hidden-only cases."""
    for p in problems:
        if isinstance(p.tests, IoTests):
            assert isinstance(p.public_tests, IoTests)
            public = {(c.stdin, c.stdout) for c in p.public_tests.cases}
            for case in p.tests.cases:
                if (case.stdin, case.stdout) not in public and case.stdin.strip():
                    assert f"Input:\n{case.stdin.rstrip()}\n" not in p.prompt, p.id
            continue
        shown = re.findall(r">>> (.*)\n\s*(.*)\n", p.prompt)
        public = p.public_tests
        assert isinstance(public, AssertsTests) or (public is None and not shown), p.id
        if public is not None:
            expected = [f"assert {call} == {result}" for call, result in shown]
            assert public.asserts == expected, p.id


def test_function_prompts_are_a_signature_and_docstring(problems: list[Problem]) -> None:
    for p in problems:
        if p.entry_point is None:
            continue
        module = ast.parse(p.prompt)
        (func,) = module.body
        assert isinstance(func, ast.FunctionDef)
        assert func.name == p.entry_point
        assert ast.get_docstring(func), p.id
        # program = prompt + reference is the reference solution
        program = ast.parse(p.program(p.reference or ""))
        assert len(program.body) == 1
