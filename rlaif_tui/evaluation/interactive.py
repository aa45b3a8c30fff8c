"""`rlaif eval --interactive`: type a prompt (and tests), see the model's samples and outcomes.

Reads standard input, so it works typed or piped:

    prompt, ending with a line holding only `.` (an empty prompt or end of input quits)
    tests: `assert` lines, ending with `.` (none: the code is only run, not tested)

Each round samples `-n` completions of the prompt with the model and runs prompt + completion
in the sandbox against the tests.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from rlaif_tui.data import AssertsTests, Problem
from rlaif_tui.evaluation.command import (
    EvalError,
    EvalOptions,
    load_model,
    sampling_for,
    sandbox_runner,
)
from rlaif_tui.evaluation.scoring import score_programs
from rlaif_tui.reward.outcome import summary

DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


def _block(stream: TextIO, console: Console, label: str) -> list[str] | None:
    """Lines up to a lone `.`; None at end of input before any line."""
    console.print(f"[bold]{label}[/bold] [dim](end with a line holding only '.')[/dim]")
    lines: list[str] = []
    for raw in stream:
        line = raw.rstrip("\n")
        if line.strip() == ".":
            return lines
        lines.append(line)
    return lines or None


def as_problem(number: int, prompt: str, asserts: list[str]) -> Problem:
    """The typed prompt as a problem: its last `def` is the entry point."""
    names = DEF.findall(prompt)
    entry = names[-1] if names else None
    tests = [a for a in asserts if a.strip()]
    if not tests:
        tests = [f"assert callable({entry})"] if entry else ["assert True"]
    return Problem(
        id=f"interactive-{number}",
        prompt=prompt if prompt.endswith("\n") else prompt + "\n",
        entry_point=entry,
        tests=AssertsTests(asserts=tests),
        program_prefix=None if entry else prompt,
    )


def run_interactive(
    opts: EvalOptions, stream: TextIO | None = None, console: Console | None = None
) -> int:
    from rlaif_tui.evaluation.sampling import sample_policy

    stream = stream or sys.stdin
    console = console or Console()
    if not opts.model:
        console.print("[red]error:[/red] --interactive needs --model")
        return 2
    try:
        ref, policy = load_model(opts.model, opts, console)
        sampling = sampling_for(ref, opts)
        with sandbox_runner(opts) as run:
            number = 0
            while True:
                prompt = _block(stream, console, "prompt>")
                if not prompt or not any(line.strip() for line in prompt):
                    break
                asserts = _block(stream, console, "tests>") or []
                number += 1
                problem = as_problem(number, "\n".join(prompt), asserts)
                samples = sample_policy(policy, [problem], sampling)
                (result,), (outcomes,) = score_programs([problem], samples.programs, run, [1])
                for i, (completion, outcome) in enumerate(
                    zip(samples.completions[0], outcomes, strict=True)
                ):
                    verdict = (
                        "[green]passed[/green]"
                        if outcome.get("passed")
                        else (f"[red]{escape(summary(outcome))}[/red]")
                    )
                    console.print(f"[bold]sample {i + 1}[/bold]: {verdict}")
                    console.print(Syntax(completion or "(empty)", "python", line_numbers=False))
                console.print(f"{result.c}/{result.n} samples passed\n")
    except EvalError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        return 2
    console.print("bye")
    return 0
