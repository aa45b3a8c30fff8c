"""`rlaif data`: validate problem files, check them against the sandbox, import benchmarks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Problem files: validate, check references in the sandbox, import public formats.",
    no_args_is_help=True,
)


class Format(StrEnum):
    humaneval = "humaneval"
    mbpp = "mbpp"
    mbpp_sanitized = "mbpp-sanitized"
    apps = "apps"
    codecontests = "codecontests"
    leetcode = "leetcode"


class Split(StrEnum):
    train = "train"
    heldout = "heldout"


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Problem JSONL files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Report line-level errors, or counts by split, difficulty and test kind."""
    from rlaif_tui.data.commands import validate as run

    raise typer.Exit(run(files, as_json=as_json))


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="Problem JSONL file.")],
    workers: Annotated[int, typer.Option(min=1, help="Sandbox lanes.")] = 2,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per program.")] = 5.0,
    memory_mb: Annotated[int, typer.Option(min=16, help="Memory cap per program (MB).")] = 256,
    sample: Annotated[int | None, typer.Option(min=1, help="Check N problems only.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --sample draw.")] = 0,
    report: Annotated[Path | None, typer.Option(help="Write per-problem JSONL here.")] = None,
) -> None:
    """Run each reference and trivial wrong answers; list broken and weak problems."""
    from rlaif_tui.data.commands import check as run

    code = run(
        file,
        workers=workers,
        timeout_s=timeout,
        memory_mb=memory_mb,
        sample=sample,
        seed=seed,
        report=report,
    )
    raise typer.Exit(code)


@app.command("import")
def import_(
    fmt: Annotated[Format, typer.Argument(help="Source format.")],
    src: Annotated[Path, typer.Argument(help="Source file (or APPS directory).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Problems JSONL to write.")],
    split: Annotated[Split | None, typer.Option(help="Override the default split.")] = None,
    force: Annotated[bool, typer.Option(help="Replace OUT if it exists.")] = False,
    challenge_tests: Annotated[
        bool, typer.Option(help="mbpp: add challenge_test_list to the hidden tests.")
    ] = False,
) -> None:
    """Convert a public benchmark file into the problem schema."""
    from rlaif_tui.data.commands import import_file

    code = import_file(
        fmt.value,
        src,
        out,
        split=split.value if split else None,
        force=force,
        challenge_tests=challenge_tests,
    )
    raise typer.Exit(code)


@app.command("export-pairs")
def export_pairs(
    run: Annotated[Path, typer.Argument(help="Run directory holding ratings.sqlite.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Preference JSONL to write.")],
) -> None:
    """TRL preference pairs ({"prompt", "chosen", "rejected"}) from a run's ratings, offline."""
    from rlaif_tui.export.pairs import export_pairs as run_export

    count = run_export(run, out)
    typer.echo(f"{count} preference pairs written to {out}")
