"""`rlaif bench sandbox`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Benchmarks that print measured ratios against baselines run alongside.",
    no_args_is_help=True,
)


@app.command("sandbox")
def sandbox(
    json_out: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
    programs: int = typer.Option(
        1000, "--programs", min=164, help="Programs per approach (>= 164)."
    ),
    workers: int = typer.Option(
        0, "--workers", min=0, help="Executor lanes (0: two per core, to hide each lane's latency)."
    ),
    subprocess_programs: int = typer.Option(
        200,
        "--subprocess-programs",
        min=20,
        help="Programs for the slow fresh-subprocess baseline.",
    ),
) -> None:
    """Executor vs in-process exec vs one fresh python per program, on HumanEval."""
    import os

    from rlaif_tui.bench.sandbox import run_bench

    workers = workers or 2 * (os.cpu_count() or 1)
    raise typer.Exit(
        run_bench(
            programs=programs,
            workers=workers,
            subprocess_programs=subprocess_programs,
            json_out=json_out,
        )
    )


@app.command("train")
def bench_train(
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
    skip_trl: bool = typer.Option(False, "--skip-trl", help="Only run rlaif-tui."),
) -> None:
    """GRPO on the pinned workload (rl-workload.md A-C): rlaif-tui vs TRL's GRPOTrainer."""
    import json

    from rlaif_tui.bench.train import format_report, json_line, run_bench

    report = run_bench(with_trl=False if skip_trl else None)
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json.dumps(json_line(report)))
