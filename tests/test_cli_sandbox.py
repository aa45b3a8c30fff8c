"""`rlaif sandbox run|doctor` and `rlaif bench sandbox`, driven through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlaif_tui.bench.data import find_benchmark
from rlaif_tui.cli.main import app

GOOD = {
    "id": "good",
    "code": "def f():\n    return 1\n",
    "tests": {"kind": "asserts", "asserts": ["assert f() == 1"]},
}


def test_run_writes_outcomes_in_order_and_marks_bad_lines_invalid(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    lines = [
        json.dumps(GOOD),
        '{"id": "broken", "code": ',
        json.dumps({"id": "no-tests", "code": "x = 1"}),
        "",
        json.dumps({**GOOD, "id": "good2"}),
    ]
    jobs.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        app, ["sandbox", "run", str(jobs), "--workers", "1", "--timeout", "3"]
    )
    assert result.exit_code == 0, result.output
    outcomes = [json.loads(line) for line in result.output.splitlines()]
    assert [(o["id"], o["status"]) for o in outcomes] == [
        ("good", "passed"),
        ("line 2", "invalid"),
        ("no-tests", "invalid"),
        ("good2", "passed"),
    ]
    assert f"{jobs}:2: invalid JSON" in outcomes[1]["message"]
    assert f"{jobs}:3: missing field(s): tests" in outcomes[2]["message"]


def test_run_reads_stdin_and_prints_a_table() -> None:
    result = CliRunner().invoke(
        app, ["sandbox", "run", "-", "--workers", "1", "--table"], input=json.dumps(GOOD) + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "good" in result.output
    assert "passed" in result.output
    assert "1/1 jobs passed" in result.output


def test_table_shows_flags_and_messages_verbatim(tmp_path: Path) -> None:
    job = {
        "id": "[x]",
        "code": "import sys\nsys.exit(0)\n",
        "tests": {"kind": "asserts", "asserts": ["assert 1"]},
    }
    result = CliRunner().invoke(
        app, ["sandbox", "run", "-", "--workers", "1", "--table"], input=json.dumps(job) + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "[exit_before_tests]" in result.output
    assert "[x]" in result.output


def test_demo_jobs_cover_every_kind_and_outcome(repo_root: Path) -> None:
    path = repo_root / "data" / "examples" / "sandbox_jobs.jsonl"
    result = CliRunner().invoke(app, ["sandbox", "run", str(path), "--timeout", "2"])
    assert result.exit_code == 0, result.output
    outcomes = {o["id"]: o for o in map(json.loads, result.output.splitlines())}
    kinds = {json.loads(line)["tests"]["kind"] for line in path.read_text().splitlines()}
    assert kinds == {"asserts", "check", "io"}
    assert outcomes["timeout"]["status"] == "timeout"
    assert outcomes["memory-bomb"]["status"] == "memory"
    assert not any(o["passed"] for i, o in outcomes.items() if i.startswith("forgery"))
    assert {o["status"] for o in outcomes.values()} >= {"passed", "failed", "error", "timeout"}


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "run", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output


def test_doctor_reports_the_level_in_force() -> None:
    result = CliRunner().invoke(app, ["sandbox", "doctor"])
    assert result.exit_code == 0, result.output
    assert "isolation level:" in result.output
    assert "landlock_fs" in result.output
    assert "seccomp" in result.output
    assert "host_view" in result.output
    # What the trusted harness may and may not do, with what confines it.
    assert "the harness (runs the tests" in result.output
    assert "may not import" in " ".join(result.output.split())


@pytest.mark.slow
def test_bench_sandbox_json_last_line_has_the_contract_keys() -> None:
    if find_benchmark("HumanEval.jsonl.gz") is None:
        pytest.skip("shared/benchmarks/HumanEval.jsonl.gz is not present")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlaif_tui.cli.main",
            "bench",
            "sandbox",
            "--json",
            "--programs",
            "164",
            "--subprocess-programs",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == {
        "executor_per_s",
        "inprocess_per_s",
        "subprocess_per_s",
        "ratio_vs_inprocess",
        "ratio_vs_subprocess",
        "cache_hits_per_s",
        "canonical_pass",
        "wrong_fail",
        "isolation",
    }
    assert result["canonical_pass"] == 164
    assert result["wrong_fail"] == 164
    assert result["executor_per_s"] > 0
    assert result["isolation"] in (
        "full",
        "partial",
        "minimal",
        "none",
    )
