"""One error path for every `rlaif` command: a broken input or a missing extra is one line on
stderr and exit code 2, never a traceback.

Commands raise their own exception types (`ConfigError`, `ProblemError`, ...); `run` below
wraps the Typer app and turns the ones that describe bad input into that line. They are
recognised by class name, so a module can move without this list going stale. Anything else
is a bug and keeps its traceback; `RLAIF_DEBUG=1` shows the traceback of input errors too.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer

EXTRA_OF = {
    "torch": "train",
    "transformers": "train",
    "peft": "train",
    "safetensors": "train",
    "huggingface_hub": "train",
    "tensorboard": "train",
    "pyflakes": "train",
    "accelerate": "distributed",
    "trl": "bench",
    "datasets": "bench",
    "matplotlib": "report",
    "sacrebleu": "metrics",
    "rouge_score": "metrics",
    "codebleu": "metrics",
    "tree_sitter_python": "metrics",
    "ray": "ray",
}
"""Top-level module -> the extra of `pyproject.toml` that installs it."""

INPUT_ERRORS = {
    "ConfigError",
    "ProblemError",
    "ContextError",
    "EvalError",
    "SamplesError",
    "RunDataError",
    "PairsError",
    "ExportError",
    "HubNameError",
    "JobError",
    "RewardError",
    "TargetError",
    "InputError",
}
"""Exception classes (by name, anywhere in the MRO) that describe bad input, not a bug."""


GROUPS = {"sandbox", "bench", "data", "rm"}
"""Commands with sub-commands: the error names both words (`rlaif rm train`)."""


class InputError(ValueError):
    """Bad input to a command; the message names the file, line or option."""


def install_hint(module: str) -> str | None:
    """`install 'rlaif-tui[train]'` for a module an extra provides, else None."""
    extra = EXTRA_OF.get(module.split(".")[0])
    return None if extra is None else f"install 'rlaif-tui[{extra}]'"


def require(*modules: str) -> None:
    """Raise `ModuleNotFoundError` (which `run` turns into the install hint) for the first of
    `modules` that is not installed, without importing any of them: a daemon checks its extra
    before it serves, and still reports its slow imports as start-up progress afterwards."""
    from importlib.util import find_spec

    for name in modules:
        if find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def fail(message: str) -> NoReturn:
    """Print `error: message` as one line on stderr and exit 2. Plain text, no markup: a `[x]`
    in a path or hint is printed as it is."""
    sys.stderr.write("error: " + " ".join(message.split("\n")).strip() + "\n")
    sys.stderr.flush()
    raise SystemExit(2)


def _is_input_error(exc: BaseException) -> bool:
    return any(cls.__name__ in INPUT_ERRORS for cls in type(exc).__mro__)


def run(app: typer.Typer) -> None:
    """Run `app` (the console script); bad input and missing extras end as one line."""
    debug = os.environ.get("RLAIF_DEBUG", "") not in ("", "0")
    try:
        app()
    except ModuleNotFoundError as exc:
        hint = install_hint(exc.name or "")
        if hint is None or debug:
            raise
        words = sys.argv[1:3] if sys.argv[1:2] and sys.argv[1] in GROUPS else sys.argv[1:2]
        command = " ".join(["rlaif", *words])
        fail(f"{command} needs {exc.name}: {hint}")
    except Exception as exc:
        if debug or not _is_input_error(exc):
            raise
        fail(str(exc))
