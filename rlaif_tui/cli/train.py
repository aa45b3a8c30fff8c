"""`rlaif train`: load a config (with `--set` overrides) and run the training loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

QUICKSTART = Path(__file__).resolve().parent.parent.parent / "configs" / "quickstart.yaml"


def train_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training config (YAML).")] = (
        QUICKSTART
    ),
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config value, e.g. --set rollout.group_size=4."),
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="Run directory (default runs/<name>).")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue the run in this directory from its latest "
            "checkpoint (with its own config.yaml unless --config is given).",
        ),
    ] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Total steps (run.steps).")] = None,
    algorithm: Annotated[
        str | None, typer.Option("--algorithm", help="grpo, rloo, ppo or dpo (config: algorithm).")
    ] = None,
) -> None:
    """Train a policy with RL from execution feedback (GRPO by default)."""
    from rlaif_tui.config import ConfigError, load_config, parse_overrides
    from rlaif_tui.config.train import TrainConfig

    try:
        values = parse_overrides(overrides or [])
        if steps is not None:
            values["run.steps"] = steps
        if algorithm is not None:
            values["algorithm"] = algorithm
        source = config
        if resume is not None and (resume / "config.yaml").exists() and config == QUICKSTART:
            source = resume / "config.yaml"  # the run's own snapshot
        cfg = load_config(source, TrainConfig, values)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from rlaif_tui.train.loop import train

    target = resume or run_dir or Path("runs") / cfg.run.name
    raise typer.Exit(train(cfg, target, resume=resume is not None))
