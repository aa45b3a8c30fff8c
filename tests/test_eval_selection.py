"""AlphaCode-style n@k and the secondary text metrics, on real problems and the real sandbox."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from eval_helpers import REPO, import_humaneval

from rlaif_tui.data import load_problems
from rlaif_tui.evaluation.command import EvalOptions, sandbox_runner
from rlaif_tui.evaluation.probes import function_probes
from rlaif_tui.evaluation.run import evaluate_completions, replay_programs
from rlaif_tui.evaluation.selection import Candidates, n_at_k, pick, select_report
from rlaif_tui.evaluation.text_metrics import text_metrics

needs_eval_extra = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("sacrebleu", "rouge_score", "codebleu")),
    reason="text metrics need the eval extra (make install has it)",
)

RIGHT = [
    '    return " ".join(reversed(sentence.split()))\n',
    "    words = sentence.split()\n    return ' '.join(words[::-1])\n",
]
HARDCODED = "    return 'fox quick the'\n"  # passes the public test only
WRONG = "    return sentence\n"  # fails the public test


def _reverse_words():  # type: ignore[no-untyped-def]
    problems = load_problems(REPO / "data" / "problems" / "core.jsonl")
    return next(p for p in problems if p.id == "strings/reverse_words")


def test_probes_come_from_public_tests_and_prompt_plus_neighbours() -> None:
    calls = function_probes(_reverse_words())
    assert calls[0] == "reverse_words('the quick  fox')"
    assert "reverse_words('xof  kciuq eht')" in calls  # a generated neighbour
    hidden = "reverse_words('one\\ttwo\\nthree')"
    assert hidden not in calls  # hidden tests are never read


def test_selection_filters_on_public_tests_and_submits_the_largest_cluster() -> None:
    problem = _reverse_words()
    completions = [WRONG] * 5 + [HARDCODED] + RIGHT
    with sandbox_runner(EvalOptions()) as run:
        report = evaluate_completions(
            "constructed",
            [problem],
            [completions],
            replay_programs([problem], [completions]),
            run,
            [1, 8],
        )
        selection = select_report(report, [1, 2], [1, 8], run)
    assert report.summary.pass_at[1].estimate == pytest.approx(2 / 8)
    row = selection["per_problem"][problem.id]
    assert row["public_pass"] == 3  # the five wrong ones are filtered
    assert row["clusters"] == 2  # both right programs behave alike; the hard-coded one differs
    assert selection["n@k"]["1@8"] == 1.0  # the larger cluster is the right one
    assert selection["n@k"]["2@8"] == 1.0
    # 1@1 is pass@1 when nothing is known: one random sample, filtered or not
    assert selection["n@k"]["1@1"] == pytest.approx(2 / 8, abs=0.08)


def test_pick_orders_clusters_by_size_then_first_seen() -> None:
    c = Candidates(
        public_ok=[True, True, True, False, True],
        signature=["a", "b", "b", "b", "c"],
        hidden_ok=[False, True, True, True, False],
    )
    assert pick(c, [0, 1, 2, 3, 4], 1) == [1]
    assert pick(c, [0, 1, 2, 3, 4], 3) == [1, 0, 4]
    assert pick(c, [4, 0], 2) == [4, 0]  # ties: the earlier in the draw
    assert n_at_k(c, 1, 5) == 1.0
    # one sample: a win only when it passes both the public filter and the hidden tests
    assert n_at_k(c, 1, 1, draws=400) == pytest.approx(2 / 5, abs=0.08)
    with pytest.raises(ValueError, match="needs at least 6 samples"):
        n_at_k(c, 1, 6)


@needs_eval_extra
def test_text_metrics_rank_the_reference_above_a_wrong_answer(
    tmp_path: Path, shared_benchmarks: Path
) -> None:
    problems = import_humaneval(shared_benchmarks, tmp_path / "he.jsonl")[:5]
    same = text_metrics(problems, [[p.reference or ""] for p in problems])
    other = text_metrics(problems, [["    return None\n"] for _ in problems])
    assert same["skipped"] is None, same["skipped"]
    assert set(same["scores"]) == {"BLEU", "ROUGE-L", "CodeBLEU"}
    assert same["scores"]["BLEU"] == pytest.approx(1.0)
    assert same["scores"]["ROUGE-L"] == pytest.approx(1.0)
    assert same["scores"]["CodeBLEU"] > 0.95
    for name, value in other["scores"].items():
        assert value < same["scores"][name] - 0.3, name


def test_text_metrics_skip_with_a_message_when_the_extra_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_benchmarks: Path
) -> None:
    problems = import_humaneval(shared_benchmarks, tmp_path / "he.jsonl")[:2]
    for module in ("sacrebleu", "rouge_score", "codebleu"):
        monkeypatch.setitem(sys.modules, module, None)  # import now raises ModuleNotFoundError
    result = text_metrics(problems, [[p.reference or ""] for p in problems])
    assert result["scores"] == {}
    assert "pip install 'rlaif-tui[metrics]'" in result["skipped"]
    assert "sacrebleu" in result["skipped"]


@needs_eval_extra
def test_eval_command_reports_n_at_k_and_text_metrics_beside_pass_at_k(tmp_path: Path) -> None:
    import json

    from eval_helpers import write_samples
    from rich.console import Console

    from rlaif_tui.evaluation.command import run_eval

    problem = _reverse_words()
    rows = [(problem.id, c) for c in [WRONG] * 5 + [HARDCODED, *RIGHT]]
    samples = write_samples(tmp_path / "s.jsonl", rows, key="problem_id")
    out = tmp_path / "report.json"
    console = Console(width=140, record=True)
    opts = EvalOptions(
        problems=REPO / "data" / "problems" / "core.jsonl",
        samples=[samples],
        ks=[1, 8],
        select=[1],
        text_metrics=True,
        json_out=out,
    )
    assert run_eval(opts, console) == 0
    report = json.loads(out.read_text())
    assert report["missing"]  # every other problem of core.jsonl had no samples
    assert report["summary"]["pass@1"]["estimate"] == pytest.approx(0.25)
    assert report["selection"]["n@k"] == {"1@1": pytest.approx(0.25, abs=0.08), "1@8": 1.0}
    assert set(report["text_metrics"]["scores"]) == {"BLEU", "ROUGE-L", "CodeBLEU"}
    text = console.export_text()
    assert "1@8" in text
    assert "CodeBLEU (vs reference)" in text
