"""A/B between two evaluations of the same problems: paired per problem, bootstrap CI.

Only problems both sides scored are compared. The verdict for each k says B is better or
worse when the paired 95% interval of mean(pass@k B - pass@k A) excludes 0, and "no reliable
difference" otherwise (passk.compare_pass_at_k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from rlaif_tui.evaluation.passk import Comparison, compare_pass_at_k
from rlaif_tui.evaluation.run import EvalReport


@dataclass
class ABResult:
    a: str
    b: str
    problems: list[str]
    per_k: list[Comparison]
    skipped_k: list[int]

    def verdict(self, c: Comparison) -> str:
        d = c.diff
        ci = f"{d.estimate:+.3f} (95% CI {d.low:+.3f} to {d.high:+.3f}, {c.problems} problems)"
        if d.low > 0:
            return f"pass@{c.k}: B is better than A by {ci}"
        if d.high < 0:
            return f"pass@{c.k}: B is worse than A by {ci}"
        return f"pass@{c.k}: no reliable difference, B - A = {ci}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "problems": len(self.problems),
            "skipped_k": self.skipped_k,
            "per_k": [
                {
                    "k": c.k,
                    "mean_a": c.mean_a,
                    "mean_b": c.mean_b,
                    "diff": c.diff.estimate,
                    "low": c.diff.low,
                    "high": c.diff.high,
                    "confidence": c.diff.confidence,
                    "verdict": self.verdict(c),
                }
                for c in self.per_k
            ],
        }


def compare_reports(a: EvalReport, b: EvalReport, ks: Sequence[int], *, seed: int = 0) -> ABResult:
    by_b = {r.id: r for r in b.results}
    pairs = [(ra, by_b[ra.id]) for ra in a.results if ra.id in by_b and ra.n and by_b[ra.id].n]
    ids = [ra.id for ra, _ in pairs]
    per_k: list[Comparison] = []
    skipped: list[int] = []
    for k in ks:
        if not pairs or any(ra.n < k or rb.n < k for ra, rb in pairs):
            skipped.append(k)
            continue
        per_k.append(
            compare_pass_at_k(
                [ra.n for ra, _ in pairs],
                [ra.c for ra, _ in pairs],
                [rb.n for _, rb in pairs],
                [rb.c for _, rb in pairs],
                k,
                resamples=5000,
                seed=seed,
            )
        )
    return ABResult(a.source, b.source, ids, per_k, skipped)


def print_comparison(result: ABResult, console: Console) -> None:
    table = Table(title=f"A/B  A = {result.a}   B = {result.b}", title_justify="left")
    for col in ("k", "A", "B", "B - A", "95% CI"):
        table.add_column(col, justify="right")
    for c in result.per_k:
        d = c.diff
        table.add_row(
            f"pass@{c.k}",
            f"{c.mean_a:.3f}",
            f"{c.mean_b:.3f}",
            f"{d.estimate:+.3f}",
            f"{d.low:+.3f} to {d.high:+.3f}",
        )
    table.caption = f"paired over {len(result.problems)} problems"
    console.print(table)
    if not result.per_k:
        console.print("verdict: nothing to compare (no common problem with enough samples)")
    for c in result.per_k:
        console.print("verdict: " + result.verdict(c))
