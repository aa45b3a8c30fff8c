"""Style reward: syntax valid, lint findings (pyflakes, as a library), and length.

    style = 0                                              if the program does not parse
    style = w_lint / (1 + findings) + w_length * length_score   otherwise (weights sum to 1)

`findings` counts pyflakes messages about the completion (undefined names, unused imports and
variables, redefinitions, ...); `length_score` is 1 up to `max_chars` of completion and falls
linearly to 0 at twice that. Nothing is executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyflakes import checker, messages

from rlaif_tui.config.feedback import StyleConfig
from rlaif_tui.models.program import parse_quietly


@dataclass
class StyleReport:
    parses: bool
    findings: list[str] = field(default_factory=list)
    length_score: float = 1.0
    score: float = 0.0


def lint(code: str, ignore: list[str] | None = None) -> list[str] | None:
    """pyflakes findings as `line: message`, or None if the code does not parse."""
    tree = parse_quietly(code)
    if tree is None:
        return None
    skip = set(ignore or [])
    out = []
    for msg in checker.Checker(tree, filename="<completion>").messages:
        assert isinstance(msg, messages.Message)
        if type(msg).__name__ in skip:
            continue
        out.append(f"{msg.lineno}: {msg.message % msg.message_args}")
    return sorted(out)


def style_report(program: str, completion: str, cfg: StyleConfig) -> StyleReport:
    findings = lint(program, cfg.ignore)
    if findings is None:
        return StyleReport(parses=False, length_score=0.0, score=0.0)
    n = len(completion)
    length_score = 1.0 if n <= cfg.max_chars else max(0.0, 2.0 - n / cfg.max_chars)
    total = cfg.lint_weight + cfg.length_weight
    if total == 0:
        return StyleReport(True, findings, length_score, 1.0)
    score = (cfg.lint_weight / (1 + len(findings)) + cfg.length_weight * length_score) / total
    return StyleReport(True, findings, length_score, score)
