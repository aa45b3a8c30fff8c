"""Secondary text metrics against the reference solution: BLEU, ROUGE-L, CodeBLEU.

They say how close a sample's text is to one known answer, not whether it works, so they are
shown beside pass@k and never instead of it (CodeBLEU, Ren et al. 2020, was proposed because
BLEU tracks correctness poorly). Computed over every (sample, reference) pair of the problems
that have a reference:

- BLEU: corpus BLEU of the completions against the reference completions (sacrebleu), 0-1;
- ROUGE-L: mean longest-common-subsequence F-measure (rouge-score);
- CodeBLEU: corpus CodeBLEU of the whole programs (codebleu, Python grammar).

The libraries come with the `eval` extra; without it each missing metric is skipped with a
message naming what to install.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlaif_tui.data import Problem

INSTALL_HINT = "pip install 'rlaif-tui[metrics]'"


def _pairs(
    problems: Sequence[Problem], completions: Sequence[Sequence[str]]
) -> list[tuple[str, str, str, str]]:
    """(completion, reference, program, reference program) for problems with a reference."""
    out = []
    for problem, samples in zip(problems, completions, strict=True):
        if problem.reference is None:
            continue
        ref_program = problem.program(problem.reference)
        out += [(c, problem.reference, problem.program(c), ref_program) for c in samples]
    return out


def _bleu(pairs: list[tuple[str, str, str, str]]) -> float:
    import sacrebleu

    hyps = [p[0] for p in pairs]
    refs = [[p[1] for p in pairs]]
    return float(sacrebleu.corpus_bleu(hyps, refs).score) / 100.0


def _rouge_l(pairs: list[tuple[str, str, str, str]]) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scores = [scorer.score(ref, hyp)["rougeL"].fmeasure for hyp, ref, _, _ in pairs]
    return float(sum(scores) / len(scores))


def _codebleu(pairs: list[tuple[str, str, str, str]]) -> float:
    from codebleu import calc_codebleu

    result = calc_codebleu([p[3] for p in pairs], [p[2] for p in pairs], lang="python")
    return float(result["codebleu"])


METRICS = {
    "BLEU": ("sacrebleu", _bleu),
    "ROUGE-L": ("rouge_score", _rouge_l),
    "CodeBLEU": ("codebleu", _codebleu),
}


def text_metrics(
    problems: Sequence[Problem], completions: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """`{"scores": {name: 0-1}, "pairs": int, "skipped": str | None}`."""
    pairs = _pairs(problems, completions)
    if not pairs:
        return {"scores": {}, "pairs": 0, "skipped": "no problem has a reference solution"}
    scores: dict[str, float] = {}
    missing: list[str] = []
    failed: list[str] = []
    for name, (module, compute) in METRICS.items():
        try:
            scores[name] = compute(pairs)
        except ModuleNotFoundError:
            missing.append(module)
        except (ValueError, TypeError, OSError) as exc:  # e.g. a grammar build mismatch
            failed.append(f"{name}: {exc}")
    notes = []
    if missing:
        notes.append(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    notes += failed
    return {"scores": scores, "pairs": len(pairs), "skipped": "; ".join(notes) or None}
