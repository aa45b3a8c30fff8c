"""Realistic mistakes in reference solutions, for an imperfect supervised warm start.

Real warm starts come from imperfect code: scraped solutions with an off-by-one, a wrong
constant or a flipped comparison. A warm start trained only on exact references leaves RL
nothing to teach but sharpening; one trained on data where a documented share of the
references carries such a mistake (while the tests stay right) leaves it something that only
the execution reward can tell apart: the mistake is as fluent as the fix.

Each mutant changes exactly one token of the reference, found with `tokenize` so formatting
and strings are left alone:

| kind | change |
|---|---|
| `off_by_one` | an integer literal k becomes k + 1 or k - 1 (k >= 1) |
| `wrong_constant` | an integer literal k >= 2 becomes another in [2, 2k + 1] |
| `wrong_operator` | `+` <-> `-`, `*` -> `+` |
| `wrong_comparison` | `<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=` |
| `wrong_builtin` | `max` <-> `min` |

A mutant usually fails the tests, but nothing here runs them: the data stays as written and
the tests decide the reward.
"""

from __future__ import annotations

import io
import random
import tokenize
from collections.abc import Sequence

OPERATOR_SWAPS = {"+": ("-",), "-": ("+",), "*": ("+",)}
COMPARISON_SWAPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
BUILTIN_SWAPS = {"max": "min", "min": "max"}
KINDS = ("off_by_one", "wrong_constant", "wrong_operator", "wrong_comparison", "wrong_builtin")


def _offsets(source: str) -> list[int]:
    """Character offset of the start of each line (1-based line numbers index it)."""
    starts, total = [0, 0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _edits(source: str) -> list[tuple[str, int, int, list[str]]]:
    """(kind, start, end, replacements) for every token a mistake can change."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    lines = _offsets(source)
    out: list[tuple[str, int, int, list[str]]] = []
    for tok in tokens:
        start = lines[tok.start[0]] + tok.start[1]
        end = lines[tok.end[0]] + tok.end[1]
        text = tok.string
        if tok.type == tokenize.NUMBER and text.isdigit():
            k = int(text)
            if k >= 1:
                out.append(("off_by_one", start, end, [str(k + 1), str(k - 1)]))
            if k >= 2:
                others = [str(v) for v in range(2, 2 * k + 2) if v not in (k, k - 1, k + 1)]
                if others:
                    out.append(("wrong_constant", start, end, others))
        elif tok.type == tokenize.OP and text in OPERATOR_SWAPS:
            out.append(("wrong_operator", start, end, list(OPERATOR_SWAPS[text])))
        elif tok.type == tokenize.OP and text in COMPARISON_SWAPS:
            out.append(("wrong_comparison", start, end, [COMPARISON_SWAPS[text]]))
        elif tok.type == tokenize.NAME and text in BUILTIN_SWAPS:
            out.append(("wrong_builtin", start, end, [BUILTIN_SWAPS[text]]))
    return out


def mistake_kinds(source: str) -> list[str]:
    """The kinds of mistake `mutate` can make in `source` (empty: none applies)."""
    return sorted({kind for kind, *_ in _edits(source)})


def mutate(source: str, rng: random.Random, kinds: Sequence[str] = KINDS) -> str | None:
    """`source` with one realistic mistake (a kind, then a site, then a change, each drawn
    uniformly), or None when no mistake of `kinds` applies."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown mistake kinds {sorted(unknown)}; valid: {', '.join(KINDS)}")
    edits = [e for e in _edits(source) if e[0] in kinds]
    if not edits:
        return None
    kind = rng.choice(sorted({e[0] for e in edits}))
    _, start, end, options = rng.choice([e for e in edits if e[0] == kind])
    return source[:start] + rng.choice(options) + source[end:]
