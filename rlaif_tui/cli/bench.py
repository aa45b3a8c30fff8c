"""`rlaif bench sandbox`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rlaif_tui.resources import asset_root, find_config

SMOKE = asset_root() / "configs" / "smoke.yaml"


def _need_humaneval() -> None:
    """The sandbox and train benchmarks run HumanEval, which is not shipped: one line if absent."""
    from rlaif_tui.bench.workload import benchmarks_dir

    path = benchmarks_dir() / "HumanEval.jsonl.gz"
    if not path.is_file():
        typer.echo(
            f"error: {path}: not found; set RLAIF_BENCHMARKS to the directory holding "
            "HumanEval.jsonl.gz",
            err=True,
        )
        raise typer.Exit(2)


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

    _need_humaneval()
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

    _need_humaneval()
    report = run_bench(with_trl=False if skip_trl else None)
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json.dumps(json_line(report)))


@app.command("daemon")
def bench_daemon(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", help="Training config (YAML) or packaged name.", show_default="smoke"
        ),
    ] = SMOKE,
    steps: int = typer.Option(8, "--steps", min=3, help="Steps per run (run.steps)."),
    clients: int = typer.Option(50, "--clients", min=1, help="Websocket clients that read."),
    slow: int = typer.Option(2, "--slow", min=0, help="Clients that connect and never read."),
    rate: float = typer.Option(20.0, "--rate", min=0.0, help="Ratings posted per second."),
    queue_limit: int = typer.Option(
        64, "--queue-limit", min=1, help="Frames a client may fall behind before it is dropped."
    ),
    rounds: int = typer.Option(
        2, "--rounds", min=1, help="Pairs of runs (without, with load), alternating order."
    ),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """Training under an in-process daemon: no clients vs 50 clients + 20 ratings/s."""
    from rlaif_tui.bench.daemon import format_report, json_line, run_bench
    from rlaif_tui.config import ConfigError, load_config
    from rlaif_tui.config.train import TrainConfig

    try:
        config = find_config(config)
        cfg = load_config(config, TrainConfig, {"run.steps": steps, "run.checkpoint_every": 0})
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = run_bench(
        cfg,
        config.name,
        clients=clients,
        slow=slow,
        rate=rate,
        queue_limit=queue_limit,
        rounds=rounds,
    )
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json_line(report))
