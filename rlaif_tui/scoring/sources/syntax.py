"""Syntax reward: 1.0 if the program parses as Python, else 0.0.

Parsing (`ast.parse`) never runs the code, so this source needs no sandbox. It is the cheapest
"style" signal (issue: syntax valid, lint findings, length) and what smoke runs use when no
sandbox is wanted; it resolves immediately.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from concurrent.futures import Future

from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore


def parses(program: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for odd escapes
            ast.parse(program)
    except (SyntaxError, ValueError):
        return False
    return True


class SyntaxSource(SourceBase):
    name = "syntax"

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        fut: Future[list[SourceScore]] = Future()
        fut.set_result([SourceScore(1.0 if parses(r.program) else 0.0) for r in requests])
        return fut

    def close(self) -> None:
        pass
