"""`rlaif`: the root command. Sub-commands live in sibling modules and import heavy
libraries (torch, transformers) only inside the command that needs them, so
`rlaif --help` and `rlaif sandbox ...` start fast."""

from __future__ import annotations

import warnings

import typer

from rlaif_tui import __version__
from rlaif_tui.cli import bench, data, rm, sandbox
from rlaif_tui.cli.daemon import daemon_command
from rlaif_tui.cli.eval import eval_command
from rlaif_tui.cli.export import export_command
from rlaif_tui.cli.report import report_command
from rlaif_tui.cli.train import train_command

# transformers 5.24 renamed forward(past_key_values=) to cache= (the old name works until
# 5.40, and releases before 5.24 know only it): the rollout keeps the old name, and a user
# should not see a deprecation warning per generated token batch.
warnings.filterwarnings("ignore", message="`past_key_values` is deprecated", category=FutureWarning)

app = typer.Typer(
    name="rlaif",
    help="Reinforcement learning from execution, AI and human feedback for code models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


app.command("train")(train_command)
app.command("daemon")(daemon_command)
app.command("eval")(eval_command)
app.command("report")(report_command)
app.command("export")(export_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rlaif-tui {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """rlaif: train, serve, evaluate and benchmark code models."""


app.add_typer(sandbox.app, name="sandbox")
app.add_typer(bench.app, name="bench")
app.add_typer(data.app, name="data")
app.add_typer(rm.app, name="rm")


def cli() -> None:
    """The `rlaif` console script: the app, with bad input and missing extras as one line."""
    from rlaif_tui.cli.errors import run

    run(app)


if __name__ == "__main__":
    cli()
