from __future__ import annotations

import ast

from rlaif_tui.data import Problem, bundled_problems
from rlaif_tui.data.mutants import FUNCTION_MUTANTS, IO_MUTANTS, mutant_programs


def defined_last(program: str, name: str) -> ast.FunctionDef:
    defs = [n for n in ast.parse(program).body if isinstance(n, ast.FunctionDef)]
    assert defs[-1].name == name
    return defs[-1]


def test_function_mutants_redefine_the_entry_point_after_the_prompt() -> None:
    problem = next(p for p in bundled_problems() if p.entry_point and p.tests.kind == "check")
    programs = mutant_programs(problem)
    assert set(programs) == set(FUNCTION_MUTANTS)
    for name, program in programs.items():
        assert program.startswith(problem.prompt)  # helpers the prompt defines stay
        func = defined_last(program, problem.entry_point or "")
        (ret,) = func.body
        assert isinstance(ret, ast.Return)
        expected = ast.parse(FUNCTION_MUTANTS[name], mode="eval").body
        assert ast.dump(ret.value or ast.Constant(None)) == ast.dump(expected)


def test_a_prompt_that_needs_a_body_is_dropped_and_suffixes_stay() -> None:
    bare = Problem.model_validate(
        {
            "id": "p",
            "prompt": "def f(x):\n",  # does not compile without a body
            "entry_point": "f",
            "tests": {"kind": "asserts", "asserts": ["assert f(1) == 2"]},
            "program_suffix": "\nHELPER = 1\n",
        }
    )
    program = mutant_programs(bare)["none"]
    assert program.startswith("\nHELPER = 1\n")
    defined_last(program, "f")


def test_io_mutants_and_problems_without_an_entry_point() -> None:
    io = next(p for p in bundled_problems() if p.tests.kind == "io")
    assert mutant_programs(io) == IO_MUTANTS
    for program in IO_MUTANTS.values():
        ast.parse(program)
    anonymous = Problem.model_validate(
        {"id": "a", "prompt": "x", "tests": {"kind": "asserts", "asserts": ["assert g() == 1"]}}
    )
    assert mutant_programs(anonymous) == {}
