"""Rich rendering of an evaluation: the headline pass@k, then per-problem rows."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table

from rlaif_tui.evaluation.run import EvalReport


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summary_table(report: EvalReport) -> Table:
    s = report.summary
    table = Table(title=f"pass@k - {report.source}", title_justify="left")
    table.add_column("metric")
    table.add_column("estimate", justify="right")
    table.add_column("95% CI", justify="right")
    for k, iv in s.pass_at.items():
        table.add_row(f"pass@{k}", _pct(iv.estimate), f"{_pct(iv.low)} - {_pct(iv.high)}")
    for name, value in (report.extras.get("selection") or {}).get("n@k", {}).items():
        table.add_row(name, _pct(value), "", style="cyan")
    metrics: dict[str, Any] = report.extras.get("text_metrics") or {}
    for name, value in (metrics.get("scores") or {}).items():
        table.add_row(f"[dim]{name} (vs reference)[/dim]", f"[dim]{value:.3f}[/dim]", "")
    table.caption = (
        f"{s.problems} problems"
        + (f"; pass@{','.join(map(str, s.skipped_k))} skipped (n < k)" if s.skipped_k else "")
        + (f"; {len(report.missing)} without samples" if report.missing else "")
    )
    return table


def problems_table(report: EvalReport, limit: int = 20) -> Table:
    ks = [k for k in report.ks if k in report.summary.pass_at]
    table = Table(title="per problem", title_justify="left")
    for col in ("problem", "n", "c", *(f"pass@{k}" for k in ks), "first failure"):
        table.add_column(col, justify="left" if col in ("problem", "first failure") else "right")
    rows = sorted(report.results, key=lambda r: (r.pass_at.get(1, r.c / max(r.n, 1)), r.id))
    for r in rows[:limit]:
        table.add_row(
            r.id,
            str(r.n),
            str(r.c),
            *(f"{r.pass_at[k]:.2f}" if k in r.pass_at else "-" for k in ks),
            (r.first_failure or "")[:70],
        )
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more problems (best solved) in the JSON report"
    return table


def render(report: EvalReport, *, per_problem: bool = True) -> RenderableType:
    parts: list[RenderableType] = [summary_table(report)]
    if per_problem:
        parts.insert(0, problems_table(report))
    metrics = report.extras.get("text_metrics") or {}
    if metrics.get("skipped"):
        # escaped: the install hint's `[metrics]` is not markup
        parts.append(f"[dim]text metrics skipped: {escape(str(metrics['skipped']))}[/dim]")
    return Group(*parts)


def print_report(report: EvalReport, console: Console, *, per_problem: bool = True) -> None:
    console.print(render(report, per_problem=per_problem))
