"""Style reward: syntax, pyflakes findings, length."""

from __future__ import annotations

import pytest

from rlaif_tui.feedback.style import StyleConfig, lint, style_report

CFG = StyleConfig()


def test_clean_code_scores_one() -> None:
    code = "def f(x):\n    return x + 1\n"
    r = style_report(code, code, CFG)
    assert r.parses
    assert r.findings == []
    assert r.score == 1.0


def test_syntax_error_scores_zero() -> None:
    r = style_report("def f(:\n", "def f(:\n", CFG)
    assert not r.parses
    assert r.score == 0.0


def test_each_lint_finding_costs() -> None:
    code = "def f(x):\n    y = 2\n    return z\n"  # unused local y, undefined z
    findings = lint(code)
    assert findings is not None
    assert len(findings) == 2
    assert any("undefined name 'z'" in f for f in findings)
    assert style_report(code, code, CFG).score == pytest.approx(0.7 / 3 + 0.3)


def test_ignored_message_classes() -> None:
    code = "import os\ndef f():\n    return 1\n"
    assert lint(code, ["UnusedImport"]) == []
    assert lint(code, []) == ["1: 'os' imported but unused"]


def test_length_term_falls_to_zero_at_twice_max() -> None:
    cfg = StyleConfig(max_chars=10)
    prog = "x = 1\n"
    assert style_report(prog, "a" * 10, cfg).length_score == 1.0
    assert style_report(prog, "a" * 15, cfg).length_score == pytest.approx(0.5)
    assert style_report(prog, "a" * 40, cfg).length_score == 0.0
