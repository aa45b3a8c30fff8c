from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.data import load_problems

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = {
    "id": "add",
    "prompt": 'def add(a, b):\n    """Return a + b."""\n',
    "entry_point": "add",
    "tests": {"kind": "asserts", "asserts": ["assert add(1, 2) == 3"]},
    "reference": "    return a + b\n",
    "difficulty": 1,
}


def write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_validate_prints_a_summary_and_exits_0(tmp_path: Path) -> None:
    io = {
        "id": "echo",
        "prompt": "Print the input.",
        "tests": {"kind": "io", "cases": [{"stdin": "x\n", "stdout": "x\n"}]},
        "split": "heldout",
    }
    path = write_lines(tmp_path / "ok.jsonl", [GOOD, io])
    result = CliRunner().invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: 2 problems, no errors" in result.output
    assert "split      heldout 1  train 1" in result.output
    assert "difficulty - 1  1 1" in result.output
    assert "kind       asserts 1  io 1" in result.output


def test_validate_reports_every_bad_line_and_exits_1(tmp_path: Path) -> None:
    rows: list[object] = [
        GOOD,
        {**GOOD, "id": "b", "tests": {"kind": "asserts", "asserts": ["add(1, 2) == 3"]}},
        {**GOOD, "id": "c", "reference": "    return a +\n"},
        {**GOOD, "id": "d", "entry_point": "plus"},
        {
            **GOOD,
            "id": "e",
            "tests": {"kind": "check", "check": "def test(c): pass", "entry_point": "add"},
        },
        "{oops",
        {**GOOD, "id": "add", "difficulty": 9},
    ]
    path = write_lines(tmp_path / "bad.jsonl", rows)
    result = CliRunner().invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:2: tests.asserts.0: must be exactly one assert statement" in lines
    assert any(
        line.startswith(f"{path}:3: reference: the reference program does not compile")
        for line in lines
    )
    assert f"{path}:4: entry_point: the reference program defines no 'plus'" in lines
    assert f"{path}:5: tests.check: defines no function `check(candidate)`" in lines
    assert any(line.startswith(f"{path}:6: ") for line in lines)
    assert any(line.startswith(f"{path}:7: difficulty:") for line in lines)
    assert lines[-1] == f"{path}: 6 error(s)"


def test_validate_json_and_a_missing_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ok.jsonl", [GOOD])
    missing = tmp_path / "nope.jsonl"
    result = CliRunner().invoke(app, ["data", "validate", "--json", str(path), str(missing)])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["problems"] == 1
    assert first["errors"] == []
    assert first["summary"]["kind"] == {"asserts": 1}
    assert "cannot read problems" in second["errors"][0]


def test_import_writes_problems_and_keeps_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "lc.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app, ["data", "import", "leetcode", str(FIXTURES / "leetcode.json"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"{out}: 5 problems from" in result.output
    assert len(load_problems(out)) == 5
    out.write_text("precious\n")
    again = runner.invoke(
        app, ["data", "import", "leetcode", str(FIXTURES / "leetcode.json"), "-o", str(out)]
    )
    assert again.exit_code == 2
    assert "already exists; pass --force" in again.output
    assert out.read_text() == "precious\n"
    forced = runner.invoke(
        app,
        [
            "data",
            "import",
            "leetcode",
            str(FIXTURES / "leetcode.json"),
            "-o",
            str(out),
            "--force",
            "--split",
            "heldout",
        ],
    )
    assert forced.exit_code == 0
    assert {p.split for p in load_problems(out)} == {"heldout"}


def test_import_reports_skips_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "apps.jsonl"
    result = runner.invoke(
        app, ["data", "import", "apps", str(FIXTURES / "apps.jsonl"), "-o", str(out)]
    )
    assert result.exit_code == 0
    assert "skipped " in result.output
    assert "5 problems" in result.output
    assert "1 skipped" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    failed = runner.invoke(
        app, ["data", "import", "leetcode", str(bad), "-o", str(tmp_path / "x.jsonl")]
    )
    assert failed.exit_code == 2
    assert f"{bad}[0]: expected an object, got int" in failed.output
    assert not (tmp_path / "x.jsonl").exists()
    wrong_flag = runner.invoke(
        app,
        [
            "data",
            "import",
            "apps",
            str(FIXTURES / "apps.jsonl"),
            "-o",
            str(tmp_path / "y.jsonl"),
            "--challenge-tests",
        ],
    )
    assert wrong_flag.exit_code == 2
    assert "mbpp format only" in wrong_flag.output
