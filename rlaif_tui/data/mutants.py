"""Trivial wrong answers: if one of these passes a problem's hidden tests, the tests are weak.

Function problems (the entry point is redefined after the prompt, so helpers the prompt
defines stay available to the tests):

| name | the entry point becomes |
|---|---|
| `none` | `return None` (also what a body of `pass` does) |
| `zero` | `return 0` (equal to `False` and `0.0`) |
| `one` | `return 1` (equal to `True` and `1.0`) |
| `empty_str` | `return ""` |
| `empty_list` | `return []` |
| `first_arg` | `return` the first argument unchanged (the identity, for one-argument functions) |

Stdin/stdout problems: `empty` (prints nothing), `echo` (copies stdin to stdout), and ones that
print a constant: `zero` (0), `one` (1), `yes` (YES), `no` (NO).

Each ignores its input, so a test set that any of them passes does not tell a real solution
from a constant; together they catch all-`True`/all-`False`, all-empty and identity test sets.
"""

from __future__ import annotations

from rlaif_tui.data.schema import IoTests, Problem
from rlaif_tui.data.validate import parse_source

FUNCTION_MUTANTS: dict[str, str] = {
    "none": "None",
    "zero": "0",
    "one": "1",
    "empty_str": '""',
    "empty_list": "[]",
    "first_arg": "args[0] if args else next(iter(kwargs.values()), None)",
}

IO_MUTANTS: dict[str, str] = {
    "empty": "pass\n",
    "echo": "import sys\nsys.stdout.write(sys.stdin.read())\n",
    "zero": "print(0)\n",
    "one": "print(1)\n",
    "yes": 'print("YES")\n',
    "no": 'print("NO")\n',
}


def mutant_programs(problem: Problem) -> dict[str, str]:
    """Name -> program for each trivial wrong answer that applies to `problem`.

    Empty for a function problem without an entry point (nothing to replace).
    """
    if isinstance(problem.tests, IoTests):
        return dict(IO_MUTANTS)
    if not problem.entry_point:
        return {}
    # The prompt (or prefix) with an empty body, then the trivial entry point after it.
    # A prompt that needs a body to compile is dropped; only the redefinition runs then.
    base = problem.program("")
    base = base + "\n\n" if parse_source(base)[0] is not None else (problem.program_suffix or "")
    return {
        name: f"{base}\ndef {problem.entry_point}(*args, **kwargs):\n    return {value}\n"
        for name, value in FUNCTION_MUTANTS.items()
    }
