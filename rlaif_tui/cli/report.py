"""`rlaif report RUN`: PNG plots and one self-contained HTML page of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report_command(
    run: Annotated[Path, typer.Argument(help="Run directory (finished or running).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default RUN/report).")
    ] = None,
) -> None:
    """Reward, pass rate, KL, held-out pass@k and a per-problem heat map (eval extra)."""
    from rlaif_tui.evaluation.run_data import RunDataError
    from rlaif_tui.evaluation.run_report import build_report

    try:
        report = build_report(run, out)
    except RunDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for name, path in report.images.items():
        typer.echo(f"{name}: {path}")
    for name in report.missing:
        typer.echo(f"{name}: nothing logged yet")
    from rlaif_tui.evaluation.paired import pair

    paired = pair(run)
    if paired is not None:  # RUN/control from run.control / rlaif train --control
        typer.echo(f"pass/rate minus control, all steps: {paired.window()}")
        typer.echo(f"pass/rate minus control, second half: {paired.second_half()}")
    typer.echo(f"report: {report.html}")
