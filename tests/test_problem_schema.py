from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlaif_tui.data import CheckTests, Problem, ProblemError, dump_problems, load_problems

GOOD = {
    "id": "add",
    "prompt": 'def add(a, b):\n    """Return a + b."""\n',
    "entry_point": "add",
    "tests": {"kind": "asserts", "asserts": ["assert add(1, 2) == 3"]},
    "reference": "    return a + b\n",
    "split": "train",
}


def write_lines(tmp_path: Path, rows: list[object]) -> Path:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_round_trip_and_split_filter(tmp_path: Path) -> None:
    held = {**GOOD, "id": "add2", "split": "heldout"}
    path = write_lines(tmp_path, [GOOD, held])
    problems = load_problems(path)
    assert [p.id for p in problems] == ["add", "add2"]
    assert [p.id for p in load_problems(path, split="heldout")] == ["add2"]
    out = tmp_path / "out.jsonl"
    dump_problems(problems, out)
    assert load_problems(out) == problems


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad_kind = {**GOOD, "id": "b", "tests": {"kind": "unit", "asserts": []}}
    missing = {k: v for k, v in GOOD.items() if k != "prompt"} | {"id": "c"}
    path = write_lines(tmp_path, [GOOD, bad_kind, "{not json", missing, GOOD])
    with pytest.raises(ProblemError) as err:
        load_problems(path)
    lines = str(err.value).splitlines()
    assert any(line.startswith(f"{path}:2: tests") for line in lines)
    assert any(line.startswith(f"{path}:3: ") for line in lines)
    assert f"{path}:4: prompt: Field required" in lines
    assert f"{path}:5: id: 'add' already used on line 1" in lines


def test_check_problem_takes_entry_point_from_tests() -> None:
    problem = Problem(
        id="h",
        prompt="def f(x):\n",
        tests=CheckTests(
            check="def check(candidate):\n    assert candidate(1) == 1\n", entry_point="f"
        ),
    )
    assert problem.entry_point == "f"
    job = problem.job("def f(x):\n    return x\n")
    assert job["tests"]["kind"] == "check"
    assert job["tests"]["entry_point"] == "f"
    with pytest.raises(ValueError, match=r"differs from tests\.entry_point"):
        Problem.model_validate(
            {**GOOD, "tests": {"kind": "check", "check": "x", "entry_point": "g"}}
        )
