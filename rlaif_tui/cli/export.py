"""`rlaif export RUN [--step N] [--merge-lora] --out DIR`: a run's policy as a plain Hugging
Face model directory (weights, tokenizer, generation config)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export_command(
    run: Annotated[Path, typer.Argument(help="Run directory (config.yaml + checkpoints/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write.")],
    step: Annotated[
        int | None, typer.Option("--step", min=0, help="Checkpoint step (default: the latest).")
    ] = None,
    merge_lora: Annotated[
        bool,
        typer.Option("--merge-lora", help="LoRA runs: merge the adapter into the base weights."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
) -> None:
    """Write a directory AutoModelForCausalLM.from_pretrained loads (vLLM serves it too)."""
    from rlaif_tui.cli.quiet import quiet_transformers
    from rlaif_tui.export.model import export_model

    quiet_transformers()
    done = export_model(run, out, step=step, merge_lora=merge_lora, force=force)
    what = {
        "model": "model",
        "merged": "model (LoRA merged)",
        "adapter": "LoRA adapter (peft; --merge-lora for a plain model)",
    }[done.kind]
    typer.echo(f"exported {done.checkpoint.name} of {run} as a {what} to {done.out}")
