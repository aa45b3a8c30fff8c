"""`rlaif bench sandbox`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rlaif_tui.resources import asset_root, find_config

SMOKE = asset_root() / "configs" / "smoke.yaml"
QUICKSTART_CONFIG = SMOKE.with_name("quickstart.yaml")


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
            "--config",
            "-c",
            help="Training config (YAML) or packaged name.",
            show_default="quickstart",
        ),
    ] = QUICKSTART_CONFIG,
    clients: int = typer.Option(200, "--clients", min=1, help="Websocket clients that read."),
    processes: int = typer.Option(4, "--processes", min=1, help="Processes the clients run in."),
    rate: float = typer.Option(50.0, "--rate", min=0.0, help="Ratings posted per second."),
    arm_seconds: float = typer.Option(60.0, "--arm-seconds", min=5.0, help="Length of an arm."),
    pairs: int = typer.Option(
        2, "--pairs", min=1, help="A/B pairs of arms, in the order A B B A A B ..."
    ),
    queue_limit: int = typer.Option(
        256, "--queue-limit", min=2, help="Frames a client may fall behind before it is dropped."
    ),
    event_tick: float | None = typer.Option(
        None,
        "--event-tick",
        min=0.0,
        help="Seconds the daemon gathers events before sending them (default: the daemon's).",
    ),
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config value, e.g. --set rollout.group_size=4."),
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """Training under an in-process daemon, arms without clients vs 200 clients + 50 ratings/s.

    The quickstart model without its warm start (the warm start changes what is generated,
    not what a step costs), no evaluation and no checkpoints, so steps differ only by load."""
    from rlaif_tui.bench.daemon import run_bench
    from rlaif_tui.bench.daemon_report import format_report, json_line
    from rlaif_tui.config import ConfigError, load_config, parse_overrides
    from rlaif_tui.config.train import TrainConfig

    values: dict[str, Any] = {
        "run.steps": 100_000,  # the arms decide how long it trains
        "run.checkpoint_every": 0,
        "run.save_final": False,
        "eval.every": 0,
        "model.warm_start.steps": 0,
    }
    try:
        config = find_config(config)
        values.update(parse_overrides(overrides or []))
        cfg = load_config(config, TrainConfig, values)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = run_bench(
        cfg,
        config.name,
        clients=clients,
        processes=processes,
        rate=rate,
        arm_s=arm_seconds,
        pairs=pairs,
        queue_limit=queue_limit,
        event_tick_s=event_tick,
    )
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json_line(report))
