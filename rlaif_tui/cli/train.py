"""`rlaif train`: load a config (with `--set` overrides) and run the training loop.

`resolve_run` is shared with `rlaif daemon`: both pick the config and the run directory the
same way (a resumed run uses its own `config.yaml` unless `--config` is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rlaif_tui.resources import asset_root, find_config

if TYPE_CHECKING:
    from rlaif_tui.config.train import TrainConfig

QUICKSTART = asset_root() / "configs" / "quickstart.yaml"
"""The packaged quickstart config (the repository's `configs/quickstart.yaml`)."""

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help="Training config (YAML), or the name of a packaged one: quickstart, smoke, ...",
        show_default="quickstart",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value, e.g. --set rollout.group_size=4."),
]
RunDirOption = Annotated[
    Path | None, typer.Option("--run-dir", help="Run directory (default runs/<name>).")
]
ResumeOption = Annotated[
    Path | None,
    typer.Option(
        "--resume",
        help="Continue the run in this directory from its latest "
        "checkpoint (with its own config.yaml unless --config is given).",
    ),
]
StepsOption = Annotated[int | None, typer.Option("--steps", help="Total steps (run.steps).")]
ControlOption = Annotated[
    bool,
    typer.Option(
        "--control",
        help="Also run the matched lr-0 control in RUN/control (run.control; doubles the "
        "step time); rlaif report RUN then pairs the two.",
    ),
]
AlgorithmOption = Annotated[
    str | None, typer.Option("--algorithm", help="grpo, rloo, ppo or dpo (config: algorithm).")
]


def resolve_run(
    config: Path,
    overrides: list[str] | None,
    run_dir: Path | None,
    resume: Path | None,
    steps: int | None = None,
    algorithm: str | None = None,
) -> tuple[TrainConfig, Path]:
    """The validated config and the run directory; a config error exits with code 2."""
    from rlaif_tui.config import ConfigError, load_config, parse_overrides
    from rlaif_tui.config.train import TrainConfig

    try:
        values = parse_overrides(overrides or [])
        if steps is not None:
            values["run.steps"] = steps
        if algorithm is not None:
            values["algorithm"] = algorithm
        config = find_config(config)
        source = config
        if resume is not None and (resume / "config.yaml").exists() and config == QUICKSTART:
            source = resume / "config.yaml"  # the run's own snapshot
        cfg = load_config(source, TrainConfig, values)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if resume is not None and not resume.is_dir():
        typer.echo(f"error: --resume {resume}: no such run directory", err=True)
        raise typer.Exit(2)
    return cfg, resume or run_dir or Path("runs") / cfg.run.name


def train_command(
    config: ConfigOption = QUICKSTART,
    overrides: SetOption = None,
    run_dir: RunDirOption = None,
    resume: ResumeOption = None,
    steps: StepsOption = None,
    algorithm: AlgorithmOption = None,
    control: ControlOption = False,
) -> None:
    """Train a policy with RL from execution feedback (GRPO by default)."""
    extra = ["run.control=true"] if control else []
    overrides = [*(overrides or []), *extra]
    cfg, target = resolve_run(config, overrides, run_dir, resume, steps, algorithm)
    from rlaif_tui.cli.quiet import quiet_transformers
    from rlaif_tui.train.loop import train

    quiet_transformers()
    raise typer.Exit(train(cfg, target, resume=resume is not None))
