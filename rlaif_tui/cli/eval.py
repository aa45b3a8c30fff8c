"""`rlaif eval`: pass@k of a model (or of given samples) on a problems file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Split(StrEnum):
    train = "train"
    heldout = "heldout"


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"{option} takes comma-separated integers, got {text!r}") from None
    return values


def eval_command(
    problems: Annotated[
        Path | None, typer.Option("--problems", "-p", help="Problems JSONL (rlaif data schema).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Run dir, checkpoint dir, training config (.yaml) or HF path/name.",
        ),
    ] = None,
    samples: Annotated[
        list[Path] | None,
        typer.Option(
            "--samples",
            help='Replay completions from JSONL ({"task_id"|"problem_id", "completion"}); '
            "twice to compare two files.",
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="B side of an A/B: a second model or samples file."),
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Samples per problem.")] = 20,
    k: Annotated[str, typer.Option("-k", help="k values of pass@k, e.g. 1,10,100.")] = "1,10,100",
    temperature: Annotated[
        float | None, typer.Option(min=0.01, help="Sampling temperature (default: run's, or 0.8).")
    ] = None,
    top_p: Annotated[float | None, typer.Option(min=0.01, max=1.0, help="Nucleus mass.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1, help="Longest completion.")] = None,
    split: Annotated[Split | None, typer.Option(help="Only problems of this split.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N problems.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report.")] = None,
    select: Annotated[
        str | None, typer.Option(help="AlphaCode-style n@k for these n, e.g. 1,10.")
    ] = None,
    text_metrics: Annotated[
        bool, typer.Option(help="BLEU / ROUGE-L / CodeBLEU vs the reference (eval extra).")
    ] = False,
    interactive: Annotated[
        bool, typer.Option(help="Type prompts (and tests); see samples and outcomes.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Sandbox lanes.")] = 2,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per program.")] = 5.0,
    memory_mb: Annotated[int, typer.Option(min=16, help="Memory cap per program (MB).")] = 256,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 1234,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, mps or auto.")] = None,
) -> None:
    """Unbiased pass@k (Chen et al. 2021) with per-problem results; A/B; n@k; replay."""
    from rlaif_tui.cli.quiet import quiet_transformers
    from rlaif_tui.evaluation.command import EvalOptions, run_eval

    quiet_transformers()
    opts = EvalOptions(
        problems=problems,
        model=model,
        samples=list(samples or []),
        compare=compare,
        n=n,
        ks=_ints(k, "-k"),
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        split=split.value if split else None,
        limit=limit,
        json_out=json_out,
        select=_ints(select, "--select") if select else [],
        text_metrics=text_metrics,
        workers=workers,
        timeout_s=timeout,
        memory_mb=memory_mb,
        seed=seed,
        device=device,
    )
    if interactive:
        from rlaif_tui.evaluation.interactive import run_interactive

        raise typer.Exit(run_interactive(opts))
    raise typer.Exit(run_eval(opts))
