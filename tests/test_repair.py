"""Self-repair prompts say what failed without leaking hidden tests."""

from __future__ import annotations

from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.repair import error_note, repair_pair, repair_prompt

HIDDEN = "assert f(12345) == 67890"


def test_assertion_failures_hide_the_test() -> None:
    outcome = {
        "status": "failed",
        "failure": {"type": "AssertionError", "message": HIDDEN, "line": 1},
    }
    note = error_note(outcome)
    assert "12345" not in note
    assert "67890" not in note
    assert "wrong result" in note


def test_crashes_show_type_message_and_line() -> None:
    outcome = {
        "status": "error",
        "failure": {"type": "ZeroDivisionError", "message": "division by zero\nmore", "line": 3},
    }
    assert error_note(outcome) == "ZeroDivisionError: division by zero at line 3."
    assert "out of time" in error_note({"status": "timeout"})


def test_prompt_comments_out_the_attempt_and_ends_with_the_original() -> None:
    text = repair_prompt(
        "def f(x):\n",
        "    return 1 / 0\n",
        {"status": "error", "failure": {"type": "ZeroDivisionError"}},
    )
    assert text is not None
    assert text.endswith("# Write a corrected version.\ndef f(x):\n")
    assert "#     return 1 / 0\n" in text
    compile(text + "    return x\n", "<repair>", "exec")  # still a valid program prefix


def test_pair_prefers_the_fix() -> None:
    assert repair_pair("P", "bad", "good") == Pair("P", "good", "bad")
    assert repair_pair("P", "same", "same") is None


def test_prompt_fits_the_budget_or_is_skipped() -> None:
    long = "".join(f"    x{i} = {i}\n" for i in range(100))
    text = repair_prompt("def f():\n", long, None, max_chars=200)
    assert text is not None
    assert len(text) <= 200
    assert text.endswith("def f():\n")
    assert repair_prompt("def f():\n", long, None, max_chars=60) is None
