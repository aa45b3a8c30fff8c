"""The outcome of one job (keys documented in docs/architecture.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = (
    "passed",
    "failed",
    "error",
    "timeout",
    "memory",
    "output_limit",
    "killed",
    "sandbox_error",
    "invalid",
)


@dataclass
class Outcome:
    id: str
    status: str
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)
