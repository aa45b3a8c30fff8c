"""`rlaif eval`: replay of given samples, sampling a real tiny model, A/B, all through the
real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import QUICKSTART_PROBLEMS, import_humaneval, smoke_run, write_samples
from rich.console import Console
from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.evaluation.command import EvalOptions, run_eval


def _console() -> Console:
    return Console(width=140, record=True, force_terminal=False)


def test_humaneval_canonical_solutions_replay_at_pass_at_1_of_one(
    tmp_path: Path, shared_benchmarks: Path
) -> None:
    problems = import_humaneval(shared_benchmarks, tmp_path / "he.jsonl")
    assert len(problems) == 164
    samples = write_samples(
        tmp_path / "canonical.jsonl", [(p.id, p.reference or "") for p in problems]
    )
    out = tmp_path / "report.json"
    opts = EvalOptions(
        problems=tmp_path / "he.jsonl", samples=[samples], ks=[1], json_out=out, timeout_s=10.0
    )
    assert run_eval(opts, _console()) == 0
    report = json.loads(out.read_text())
    assert report["summary"]["problems"] == 164
    assert report["summary"]["pass@1"]["estimate"] == 1.0
    failing = [p for p in report["problems"] if p["c"] != 1]
    assert failing == [], failing[:3]


def test_replay_counts_each_sample_and_names_the_first_failure(
    tmp_path: Path, shared_benchmarks: Path
) -> None:
    problems = import_humaneval(shared_benchmarks, tmp_path / "he.jsonl")[:4]
    rows = []
    for p in problems:  # right, wrong, right: n = 3, c = 2
        rows += [(p.id, p.reference or ""), (p.id, "    return None\n"), (p.id, p.reference or "")]
    samples = write_samples(tmp_path / "mixed.jsonl", rows)
    out = tmp_path / "report.json"
    opts = EvalOptions(
        problems=tmp_path / "he.jsonl", samples=[samples], ks=[1, 2, 5], json_out=out, limit=4
    )
    console = _console()
    assert run_eval(opts, console) == 0
    report = json.loads(out.read_text())
    for row in report["problems"]:
        assert (row["n"], row["c"]) == (3, 2)
        assert row["pass@1"] == pytest.approx(2 / 3)
        assert row["pass@2"] == 1.0  # only one wrong sample: every pair holds a right one
        assert "pass@5" not in row
        assert row["first_failure"].startswith(("failed", "error"))
    assert report["summary"]["pass@1"]["estimate"] == pytest.approx(2 / 3)
    assert report["summary"]["skipped_k"] == [5]
    assert "pass@5 skipped" in console.export_text()


def test_bad_samples_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "q/0", "completion": "x"}\n{"task_id": "q/0"}\nnot json\n')
    console = _console()
    opts = EvalOptions(problems=QUICKSTART_PROBLEMS, samples=[bad], ks=[1])
    assert run_eval(opts, console) == 2
    text = console.export_text()
    assert f"{bad}:2: completion" in text
    assert f"{bad}:3: not JSON" in text


def test_samples_for_an_unknown_problem_are_an_error(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "s.jsonl", [("no-such-problem", "pass\n")], "problem_id")
    console = _console()
    assert run_eval(EvalOptions(problems=QUICKSTART_PROBLEMS, samples=[samples]), console) == 2
    assert "not in the problems file: no-such-problem" in console.export_text()


def test_ab_of_two_samples_files_pairs_problems_and_gives_a_verdict(
    tmp_path: Path, shared_benchmarks: Path
) -> None:
    problems = import_humaneval(shared_benchmarks, tmp_path / "he.jsonl")[:6]
    wrong = write_samples(tmp_path / "a.jsonl", [(p.id, "    return None\n") for p in problems])
    right = write_samples(tmp_path / "b.jsonl", [(p.id, p.reference or "") for p in problems])
    out = tmp_path / "ab.json"
    console = _console()
    opts = EvalOptions(
        problems=tmp_path / "he.jsonl", samples=[wrong, right], ks=[1], json_out=out, limit=6
    )
    assert run_eval(opts, console) == 0
    comparison = json.loads(out.read_text())["comparison"]
    assert comparison["problems"] == 6
    (row,) = comparison["per_k"]
    assert (row["mean_a"], row["mean_b"], row["diff"]) == (0.0, 1.0, 1.0)
    assert "B is better than A" in console.export_text()
    # the same file on both sides: the interval is [0, 0], no difference
    same = EvalOptions(problems=tmp_path / "he.jsonl", samples=[right, right], ks=[1], limit=6)
    console = _console()
    assert run_eval(same, console) == 0
    assert "no reliable difference" in console.export_text()


@pytest.fixture(scope="module")
def smoke_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return smoke_run(tmp_path_factory.mktemp("eval-run"))


def test_eval_samples_a_run_and_its_checkpoint_and_compares_them(
    smoke_run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model.json"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--model",
            str(smoke_run_dir),
            "--problems",
            str(QUICKSTART_PROBLEMS),
            "--split",
            "heldout",
            "--limit",
            "3",
            "-n",
            "4",
            "-k",
            "1,2",
            "--max-new-tokens",
            "16",
            "--compare",
            str(smoke_run_dir / "checkpoints" / "step-000001"),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    a, b = report["a"], report["b"]
    assert "step-000002" in a["source"]  # the run's latest checkpoint
    assert b["source"].endswith("step-000001")
    assert a["settings"]["n"] == 4
    assert a["settings"]["max_new_tokens"] == 16
    for side in (a, b):
        assert [p["n"] for p in side["problems"]] == [4, 4, 4]
        for p in side["problems"]:
            assert 0 <= p["c"] <= 4
            assert p["pass@1"] == pytest.approx(p["c"] / 4)
            # a random tiny model fails; the report says how
            assert (p["first_failure"] is None) == (p["c"] == 4)
    assert [row["k"] for row in report["comparison"]["per_k"]] == [1, 2]
    assert "verdict: pass@1" in result.output


def test_eval_rejects_both_model_and_samples(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "s.jsonl", [("x", "y")])
    console = _console()
    opts = EvalOptions(problems=QUICKSTART_PROBLEMS, model="m", samples=[samples])
    assert run_eval(opts, console) == 2
    assert "either --model or --samples" in console.export_text()


def test_interactive_mode_samples_typed_prompt_and_runs_typed_tests(smoke_run_dir: Path) -> None:
    import subprocess
    import sys

    typed = (
        "def add(a, b):\n"
        '    """Return a + b."""\n'
        ".\n"
        "assert add(1, 2) == 3\n"
        ".\n"
        "\n"  # an empty prompt ends the session
        ".\n"
    )
    rlaif = Path(sys.executable).parent / "rlaif"
    proc = subprocess.run(
        [
            str(rlaif),
            "eval",
            "--interactive",
            "--model",
            str(smoke_run_dir),
            "-n",
            "3",
            "--max-new-tokens",
            "8",
        ],
        input=typed,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "COLUMNS": "120"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for i in (1, 2, 3):
        assert f"sample {i}:" in out
    # a random tiny model cannot write `return a + b`; every sample ran against the typed test
    assert "0/3 samples passed" in out
    assert out.count("failed (0/1 passed)") + out.count("error (0/1 passed)") == 3
    assert out.rstrip().endswith("bye")


def test_a_model_that_cannot_be_found_is_a_clear_error(tmp_path: Path) -> None:
    console = Console(width=400, record=True)  # one line per message, whatever the tmp path
    missing = tmp_path / "no-such-run"
    opts = EvalOptions(problems=QUICKSTART_PROBLEMS, model=str(missing), limit=1)
    assert run_eval(opts, console) == 2
    assert f"cannot load model {missing}: --model {missing}: no such run" in console.export_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {sourc: tiny}\n")
    assert run_eval(EvalOptions(problems=QUICKSTART_PROBLEMS, model=str(bad)), console) == 2
    assert "model.sourc" in console.export_text()
