"""Self-repair rollouts (optional, `repair.enabled`): the policy revises its failing code.

For a few groups per step where some completion failed, one failing completion is shown back to
the policy with what went wrong, and the policy writes a revision group from a repair prompt:

    # A previous attempt failed: <what went wrong>
    # The attempt's body:
    # <the failed completion, commented out, cut to fit the model's context>
    # Write a corrected version.
    <the original prompt>

The revisions are ordinary samples of a new group (its own prompt, the same hidden tests), so
they are rewarded and trained on like any other. A revision that passes where the attempt
failed gives a preference pair (fixed over failed).

Hidden tests never leak into the prompt: for an assertion failure only the exception type is
shown, never the failing assert or its values; a crash inside the attempt shows its type,
message and line (the message comes from the policy's own code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlaif_tui.feedback.pairs import Pair


def error_note(outcome: Mapping[str, Any] | None, max_chars: int = 200) -> str:
    """What went wrong, without anything from the hidden tests."""
    if not outcome:
        return "it did not run."
    status = outcome.get("status")
    if status == "timeout":
        return "it ran out of time (an endless loop or a slow algorithm)."
    if status == "memory":
        return "it used too much memory."
    failure = outcome.get("failure") or {}
    kind = str(failure.get("type") or status or "failure")
    if kind == "AssertionError" or status == "failed":
        return "it returned a wrong result for some input (AssertionError)."
    line = failure.get("line")
    message = str(failure.get("message") or "").splitlines()[0:1]
    text = f"{kind}: {message[0][:max_chars]}" if message else kind
    return f"{text}" + (f" at line {line}." if line else ".")


def repair_prompt(
    prompt: str,
    completion: str,
    outcome: Mapping[str, Any] | None,
    critique: str = "",
    max_chars: int | None = None,
) -> str | None:
    """The repair prompt, or None if it cannot fit in `max_chars` with some of the attempt."""
    note = f"# A previous attempt failed: {error_note(outcome)}\n"
    extra = f"# A reviewer said: {critique}\n" if critique else ""
    tail = f"# The attempt's body:\n{{}}# Write a corrected version.\n{prompt}"
    attempt = "".join(f"# {line}\n" for line in completion.splitlines())
    if max_chars is not None:
        room = max_chars - len(note) - len(extra) - len(tail) + 2
        if room < 8:
            return None
        attempt = attempt[:room]
        if not attempt.endswith("\n"):
            attempt = attempt[: attempt.rfind("\n") + 1] if "\n" in attempt else ""
    return note + extra + tail.replace("{}", attempt, 1)


def repair_pair(original_prompt: str, failed: str, fixed: str) -> Pair | None:
    """(fixed over failed) for the original prompt, if they differ."""
    return None if failed == fixed else Pair(original_prompt, fixed, failed)
