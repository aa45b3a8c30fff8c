"""`rlaif rm train`: fit a Bradley-Terry reward model on preference / rating files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Reward models learned from human preferences.", no_args_is_help=True)


@app.command("train")
def train(
    files: Annotated[
        list[Path],
        typer.Argument(help="Preference JSONL (prompt/chosen/rejected) or rating CSV/JSON."),
    ],
    base: Annotated[str, typer.Option("--base", help="Backbone: hub name or local path.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to save the reward model.")],
    epochs: Annotated[int, typer.Option(help="Passes over the training pairs.")] = 3,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 16,
    heldout: Annotated[float, typer.Option(help="Share of prompts held out.")] = 0.2,
    max_length: Annotated[int, typer.Option(help="Tokens per prompt + completion.")] = 512,
) -> None:
    """Train on the pairs, report held-out pair accuracy, save to --out."""
    from rlaif_tui.cli.quiet import quiet_transformers
    from rlaif_tui.config.feedback import RewardModelConfig
    from rlaif_tui.feedback.pairs import PairsError
    from rlaif_tui.feedback.rm_train import train_reward_model
    from rlaif_tui.models.hub import check_model_name

    quiet_transformers()
    check_model_name(base)

    cfg = RewardModelConfig.model_validate(
        {
            "lr": lr,
            "epochs": epochs,
            "batch_size": batch_size,
            "heldout_fraction": heldout,
            "max_length": max_length,
        }
    )
    try:
        report = train_reward_model(base, files, out, cfg)
    except PairsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    held = report.heldout_accuracy
    typer.echo(
        f"trained on {report.train_pairs} pairs in {report.steps} steps; "
        f"held-out pair accuracy {'n/a' if held is None else f'{held:.3f}'} "
        f"on {report.heldout_pairs} pairs; saved to {out}"
    )
