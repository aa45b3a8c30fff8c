"""The outcome of one job (keys documented in docs/architecture.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Status = Literal[
    "passed",
    "failed",
    "error",
    "timeout",
    "memory",
    "output_limit",
    "killed",
    "sandbox_error",
    "invalid",
]
STATUSES: tuple[Status, ...] = get_args(Status)
SANDBOX_FAILURES: tuple[Status, ...] = ("sandbox_error", "invalid")
"""The sandbox, not the program, failed: no verdict on the program."""


def summary(outcome: Mapping[str, Any], max_chars: int = 200) -> str:
    """One line on how a job ended: status, tests passed, the first failure (or the message),
    e.g. `failed (0/3 passed): test 1: AssertionError: ...`. Outcomes travel as dicts
    (`Outcome.to_dict()`), so this takes one; `Outcome.summary()` is the same."""
    status = outcome.get("status", "?")
    counts = f"{outcome.get('tests_passed', 0)}/{outcome.get('tests_total', 0)} passed"
    failure = outcome.get("failure") or {}
    detail = ""
    if failure:
        detail = f"{failure.get('type', '')}: {failure.get('message', '')}".strip(": ")
        if failure.get("test") is not None:
            detail = f"test {failure['test']}: {detail}"
    elif outcome.get("message"):
        detail = str(outcome["message"])
    detail = " ".join(detail.split())[:max_chars]
    return f"{status} ({counts})" + (f": {detail}" if detail else "")


@dataclass
class Outcome:
    id: str
    status: Status
    passed: bool = False
    tests_passed: int = 0
    tests_total: int = 0
    message: str = ""
    failure: dict[str, Any] | None = None
    duration_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    cached: bool = False
    isolation: str = "none"
    flags: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls.from_dict(json.loads(text))

    @classmethod
    def invalid(cls, id: str, message: str) -> Outcome:
        return cls(id=id, status="invalid", message=message)

    def summary(self) -> str:
        """One line on how the job ended (`summary`)."""
        return summary(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)
