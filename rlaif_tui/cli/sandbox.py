"""`rlaif sandbox run|doctor`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run untrusted programs against tests in the sandbox.", no_args_is_help=True)


@app.command()
def run(
    jobs: str = typer.Argument(..., help="JSONL file of jobs, or - for stdin."),
    workers: int = typer.Option(2, "--workers", min=1, help="Sandbox lanes run in parallel."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.01, help="Wall-clock seconds per job."),
    memory_mb: int = typer.Option(
        256, "--memory-mb", min=32, help="Address-space cap per job, MiB."
    ),
    isolation_floor: str = typer.Option(
        "full",
        "--isolation-floor",
        help="Refuse to run below this level: full, partial, minimal, none.",
    ),
    table: bool = typer.Option(False, "--table", help="Print a table instead of JSON lines."),
) -> None:
    """Run each job (one JSON object per line); print one JSON outcome per line, in input order."""
    from rlaif_tui import _reward
    from rlaif_tui.reward.batch import run_jsonl

    try:
        run_jsonl(
            jobs,
            workers=workers,
            timeout_s=timeout,
            memory_mb=memory_mb,
            isolation_floor=isolation_floor,
            table=table,
        )
    except OSError as exc:
        typer.echo(f"error: {exc.filename or jobs}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    except _reward.RewardError as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def doctor() -> None:
    """Print which sandbox protections are active on this machine."""
    from rlaif_tui.reward.doctor import doctor as run_doctor

    run_doctor()
