"""Every README command, given a broken input, ends with one `error:` line on stderr, exit code
2 and no traceback. Each runs the installed `rlaif` script in a fresh process, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlaif_tui.cli.errors import install_hint
from rlaif_tui.data import load_problems
from rlaif_tui.models.context import ContextError, fit_prompts

REPO = Path(__file__).resolve().parent.parent
RLAIF = str(Path(sys.executable).parent / "rlaif")
QUICKSTART_PROBLEMS = str(REPO / "data" / "quickstart" / "problems.jsonl")

# Python that cannot import torch: what a `pip install rlaif-tui` without the train extra has.
NO_TORCH = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "peft"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        [RLAIF, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stderr


def assert_one_line(code: int, stderr: str, *needles: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    (tmp_path / "typo.yaml").write_text("run:\n  name: x\n  stpes: 3\n")
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "prompt": \n')
    (tmp_path / "jobs.jsonl").write_text("")
    (tmp_path / "pairs.jsonl").write_text('{"prompt": "p"}\n')
    (tmp_path / "[bold]run").mkdir()
    return tmp_path


CASES: list[tuple[list[str], tuple[str, ...]]] = [
    (["sandbox", "run", "missing.jsonl"], ("missing.jsonl", "No such file")),
    (["data", "check", "bad.jsonl"], ("bad.jsonl:1",)),
    (["data", "import", "humaneval", "missing.jsonl.gz", "-o", "o.jsonl"], ("missing.jsonl.gz",)),
    (["train", "--config", "typo.yaml"], ("typo.yaml:3", "run.stpes")),
    (["train", "--resume", "runs/nope"], ("runs/nope", "no such run directory")),
    (["daemon", "--config", "typo.yaml"], ("typo.yaml:3",)),
    (["eval", "--model", "./nope", "-p", QUICKSTART_PROBLEMS], ("./nope",)),
    (["eval", "--samples", "s.jsonl", "-p", "bad.jsonl"], ("bad.jsonl:1",)),
    (["report", "runs/nope"], ("runs/nope",)),
    (["report", "[bold]run"], ("[bold]run",)),  # rich markup must not eat the path
    (["rm", "train", "pairs.jsonl", "--base", "./nope", "--out", "rm"], ("./nope",)),
    (["bench", "daemon", "--config", "nope.yaml"], ("nope.yaml",)),
    (["bench", "train"], ("no-benchmarks/HumanEval.jsonl.gz", "RLAIF_BENCHMARKS")),
    (["bench", "sandbox"], ("no-benchmarks/HumanEval.jsonl.gz",)),
    (["export", "runs/nope", "--out", "exported"], ("runs/nope",)),
    (["data", "export-pairs", "runs/nope", "-o", "p.jsonl"], ("runs/nope",)),
]


@pytest.mark.parametrize(("args", "needles"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_broken_input_is_one_line(args: list[str], needles: tuple[str, ...], broken: Path) -> None:
    code, stderr = run(args, broken, {"RLAIF_BENCHMARKS": str(broken / "no-benchmarks")})
    assert_one_line(code, stderr, *needles)


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--config", "smoke"],
        ["daemon", "--config", "smoke"],
        ["eval", "--model", str(REPO / "configs" / "smoke.yaml"), "-p", QUICKSTART_PROBLEMS],
        ["rm", "train", "pairs.jsonl", "--base", "gpt2", "--out", "rm"],
        ["export", "runs/x", "--out", "exported"],
    ],
    ids=lambda a: " ".join(a[:1]),
)
def test_missing_train_extra_names_the_install_command(args: list[str], broken: Path) -> None:
    (broken / "sitecustomize.py").write_text(NO_TORCH)
    (broken / "runs" / "x" / "checkpoints" / "step-000001").mkdir(parents=True)
    (broken / "runs" / "x" / "config.yaml").write_text("run: {name: x}\n")
    (broken / "runs" / "x" / "checkpoints" / "latest").write_text("step-000001\n")
    code, stderr = run(args, broken, {"PYTHONPATH": str(broken)})
    line = assert_one_line(code, stderr, "install 'rlaif-tui[train]'")
    command = " ".join(args[:2]) if args[0] == "rm" else args[0]
    assert line.startswith(f"error: rlaif {command} needs ")


def test_install_hint_names_each_extra() -> None:
    assert install_hint("matplotlib.pyplot") == "install 'rlaif-tui[report]'"
    assert install_hint("sacrebleu") == "install 'rlaif-tui[metrics]'"
    assert install_hint("trl") == "install 'rlaif-tui[bench]'"
    assert install_hint("not_ours") is None


def test_prompts_longer_than_the_context_are_listed_then_skipped_or_refused() -> None:
    problems = load_problems(Path(QUICKSTART_PROBLEMS))[:4]
    warnings: list[str] = []
    fit = fit_prompts(
        problems, [10, 70, 30, 64], context=64, max_new_tokens=40, warn=warnings.append
    )
    assert [p.id for p in fit.problems] == [problems[0].id, problems[2].id]
    assert fit.skipped == [(problems[1].id, 70), (problems[3].id, 64)]
    assert f"{problems[1].id} (70 tokens)" in warnings[0]
    # 30 + 40 > 64: the completion budget shrinks to what the longest kept prompt leaves
    assert fit.max_new_tokens == 34
    assert "max_new_tokens 40 clamped to 34" in warnings[1]
    with pytest.raises(ContextError, match=f"{problems[1].id} \\(70 tokens\\)"):
        fit_prompts(problems, [10, 70, 30, 64], context=64, max_new_tokens=40, too_long="error")
    with pytest.raises(ContextError, match="zero tokens"):
        fit_prompts(problems[:1], [0], context=64, max_new_tokens=4)


def test_train_refuses_or_skips_too_long_problems(tmp_path: Path) -> None:
    tiny = ["--set", "model.tiny.n_positions=64", "--steps", "1"]
    code, stderr = run(
        ["train", "--config", "smoke", *tiny, "--set", "data.too_long=error", "--run-dir", "r1"],
        tmp_path,
    )
    assert code == 2
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: 6 of 16 problems have a prompt as long as the model's context")
    assert "quickstart/train/0004 (67 tokens)" in last
    code, stderr = run(["train", "--config", "smoke", *tiny, "--run-dir", "r2"], tmp_path)
    assert code == 0, stderr
    assert "(skipped; set data.too_long: error to refuse instead)" in stderr
    assert "max_new_tokens 12 clamped to 1" in stderr
    metrics = [json.loads(x) for x in (tmp_path / "r2" / "metrics.jsonl").read_text().splitlines()]
    assert metrics
    assert metrics[-1]["step"] == 1


def test_eval_of_a_short_context_model_dir_skips_and_clamps(tmp_path: Path) -> None:
    from rlaif_tui.models.tiny import TinySpec, build_tiny

    model, tok = build_tiny(TinySpec(n_embd=16, n_layer=1, n_head=2, n_positions=72, dropout=0.0))
    model.save_pretrained(tmp_path / "short")
    tok.save_pretrained(tmp_path / "short")
    proc = subprocess.run(
        [
            RLAIF,
            "eval",
            "--model",
            "./short",
            "-p",
            QUICKSTART_PROBLEMS,
            "--limit",
            "12",
            "-n",
            "1",
            "-k",
            "1",
            "--max-new-tokens",
            "40",
            "--device",
            "cpu",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "problems have a prompt as long as the model's context (72 tokens)" in proc.stdout
    assert "max_new_tokens 40 clamped to" in proc.stdout
    assert "pass@1" in proc.stdout
