"""Self-repair rollouts (optional, `repair.enabled`): the policy revises its failing code.

For a few groups per step where some completion failed, one failing completion is shown back to
the policy with what went wrong, and the policy writes a revision group from a repair prompt:

    <the original prompt's context, as comments>
    # A previous attempt failed: <ExceptionType> at line N of the attempt.
    # <the attempt, commented out>
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

from pydantic import BaseModel, ConfigDict, Field

from rlaif_tui.feedback.pairs import Pair


class RepairConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    enabled: bool = False
    """Add self-repair groups to each step (off by default)."""
    max_groups: int = Field(2, ge=1)
    """Repair groups added per step at most."""
    critique: bool = False
    """Also show the judge's weakest criterion (needs the judge source)."""


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
    prompt: str, completion: str, outcome: Mapping[str, Any] | None, critique: str = ""
) -> str:
    attempt = "".join(f"# {line}\n" for line in (prompt + completion).splitlines())
    note = error_note(outcome)
    extra = f"# A reviewer said: {critique}\n" if critique else ""
    return (
        f"# A previous attempt failed: {note}\n{extra}{attempt}"
        f"# Write a corrected version.\n{prompt}"
    )


def repair_pair(original_prompt: str, failed: str, fixed: str) -> Pair | None:
    """(fixed over failed) for the original prompt, if they differ."""
    return None if failed == fixed else Pair(original_prompt, fixed, failed)
