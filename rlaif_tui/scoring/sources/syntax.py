"""Syntax reward: 1.0 if the program parses as Python, else 0.0.

Parsing (`ast.parse`) never runs the code, so this source needs no sandbox. It is the cheapest
"style" signal (issue: syntax valid, lint findings, length) and what smoke runs use when no
sandbox is wanted; it resolves immediately.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from rlaif_tui.models.program import parse_quietly
from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore


def parses(program: str) -> bool:
    return parse_quietly(program) is not None


class SyntaxSource(SourceBase):
    name = "syntax"

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        fut: Future[list[SourceScore]] = Future()
        fut.set_result([SourceScore(1.0 if parses(r.program) else 0.0) for r in requests])
        return fut

    def close(self) -> None:
        pass
