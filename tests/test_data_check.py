"""`rlaif data check` through the real sandbox executor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.data import Problem, bundled_problems, dump_problems
from rlaif_tui.data.check import ProblemCheck, check_problems
from rlaif_tui.data.importers import import_problems
from rlaif_tui.reward.runner import Runner, executor_runner

FIXTURES = Path(__file__).parent / "fixtures"

ADD = {
    "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    "entry_point": "add",
    "reference": "    return a + b\n",
}


def problem(pid: str, **fields: Any) -> Problem:
    return Problem.model_validate({"id": pid, **ADD, **fields})


@pytest.fixture(scope="module")
def run() -> Any:
    with executor_runner(workers=2, timeout_s=5.0) as runner:
        yield runner


def by_id(results: list[ProblemCheck]) -> dict[str, ProblemCheck]:
    return {r.id: r for r in results}


def test_finds_broken_weak_and_unchecked_problems(run: Runner) -> None:
    asserts = lambda *a: {"kind": "asserts", "asserts": list(a)}  # noqa: E731
    problems = [
        problem("ok", tests=asserts("assert add(2, 3) == 5", "assert add(-1, 1) == 0")),
        problem("wrong-expected", tests=asserts("assert add(2, 3) == 6")),
        problem(
            "bad-public",
            tests=asserts("assert add(2, 3) == 5"),
            public_tests=asserts("assert add(1, 1) == 3"),
        ),
        # add(x, 0) == x: returning the first argument passes.
        problem("identity", tests=asserts("assert add(4, 0) == 4", "assert add(7, 0) == 7")),
        # add(0, 0) == 0 and add(1, -1) == 0: returning 0, None-free but constant, passes.
        problem("zeros", tests=asserts("assert add(0, 0) == 0", "assert add(1, -1) == 0")),
        problem("no-reference", tests=asserts("assert add(1, 1) == 2"), reference=None),
        Problem.model_validate(
            {
                "id": "io-yes",
                "prompt": "Print YES.",
                "tests": {
                    "kind": "io",
                    "cases": [
                        {"stdin": "1\n", "stdout": "YES\n"},
                        {"stdin": "2\n", "stdout": "YES\n"},
                    ],
                },
                "reference": "print('YES')\n",
            }
        ),
        Problem.model_validate(
            {
                "id": "io-ok",
                "prompt": "Print the number doubled.",
                "tests": {
                    "kind": "io",
                    "cases": [{"stdin": "1\n", "stdout": "2\n"}, {"stdin": "0\n", "stdout": "0\n"}],
                },
                "reference": "print(2 * int(input()))\n",
            }
        ),
    ]
    results = by_id(check_problems(problems, run))
    assert {k: r.verdict for k, r in results.items()} == {
        "ok": "ok",
        "wrong-expected": "broken",
        "bad-public": "broken",
        "identity": "weak",
        "zeros": "weak",
        "no-reference": "unchecked",
        "io-yes": "weak",
        "io-ok": "ok",
    }
    assert results["identity"].passing_mutants == ["first_arg"]
    assert results["zeros"].passing_mutants == ["zero"]
    assert results["io-yes"].passing_mutants == ["yes"]
    assert results["wrong-expected"].describe().startswith("hidden tests: failed (0/1 passed)")
    assert results["bad-public"].describe().startswith("public tests: failed")


@pytest.mark.slow
def test_every_bundled_problem_passes_the_check(run: Runner) -> None:
    """~1,600 sandboxed runs (~10 s on 2 cores): references pass, no trivial answer does."""
    results = check_problems(bundled_problems(), run)
    assert len(results) >= 200
    bad = [(r.id, r.describe()) for r in results if r.verdict != "ok"]
    assert bad == []
    flagged = [r.id for r in results if r.reference and r.reference["flags"]]
    assert flagged == []  # no test needed a candidate helper or an unsupported value


def test_imported_fixture_references_pass_in_the_sandbox(run: Runner) -> None:
    """APPS preludes and shims, LeetCode parsing and CodeContests cases hold up for real."""
    problems: list[Problem] = []
    for fmt, name in (
        ("apps", "apps.jsonl"),
        ("codecontests", "codecontests.jsonl"),
        ("leetcode", "leetcode.json"),
    ):
        problems += import_problems(fmt, FIXTURES / name).problems
    verdicts = {r.id: r.verdict for r in check_problems(problems, run)}
    assert verdicts.pop("codecontests/9001_B. Pair Sums") == "unchecked"  # Python 2 only
    assert set(verdicts.values()) == {"ok"}, verdicts


def test_the_check_command_lists_problems_and_writes_a_report(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    dump_problems(
        [
            problem("good", tests={"kind": "asserts", "asserts": ["assert add(2, 3) == 5"]}),
            problem("weak", tests={"kind": "asserts", "asserts": ["assert add(4, 0) == 4"]}),
        ],
        src,
    )
    report = tmp_path / "report.jsonl"
    result = CliRunner().invoke(app, ["data", "check", str(src), "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "weak    weak  hidden tests pass for: first_arg" in result.output
    assert "checked 2 problems" in result.output
    assert "1 ok, 0 broken, 1 weak, 0 unchecked" in result.output
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert [(r["id"], r["verdict"]) for r in rows] == [("good", "ok"), ("weak", "weak")]
    assert rows[0]["reference"]["status"] == "passed"
