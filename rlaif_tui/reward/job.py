"""A job: a program plus its tests, in one of three kinds (docs/architecture.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("asserts", "check", "io")


class JobError(ValueError):
    """A job or tests object that cannot be run; the message names the field."""


def _str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JobError(f"{field} must be a list of strings")
    return list(value)


def validate_tests(tests: Any, field: str = "tests") -> dict[str, Any]:
    """Check a `tests` object (shared with the problem schema) and return a clean copy."""
    if not isinstance(tests, Mapping):
        raise JobError(f"{field} must be an object with a `kind`")
    kind = tests.get("kind")
    if kind not in KINDS:
        raise JobError(f"{field}.kind must be one of {', '.join(KINDS)}, not {kind!r}")
    allowed = {
        "asserts": {"kind", "asserts", "setup"},
        "check": {"kind", "check", "entry_point"},
        "io": {"kind", "cases"},
    }[kind]
    extra = sorted(set(tests) - allowed)
    if extra:
        raise JobError(f"{field}: unknown field(s) for kind {kind}: {', '.join(extra)}")
    if kind == "asserts":
        out: dict[str, Any] = {
            "kind": kind,
            "asserts": _str_list(tests.get("asserts"), f"{field}.asserts"),
        }
        if tests.get("setup") is not None:
            if not isinstance(tests["setup"], str):
                raise JobError(f"{field}.setup must be a string")
            out["setup"] = tests["setup"]
        return out
    if kind == "check":
        check, entry = tests.get("check"), tests.get("entry_point")
        if not isinstance(check, str) or "def check" not in check:
            raise JobError(f"{field}.check must be source text defining check(candidate)")
        if not isinstance(entry, str) or not entry.isidentifier():
            raise JobError(f"{field}.entry_point must be a Python identifier")
        return {"kind": kind, "check": check, "entry_point": entry}
    cases = tests.get("cases")
    if not isinstance(cases, list):
        raise JobError(f"{field}.cases must be a list of {{stdin, stdout}} objects")
    clean = []
    for i, case in enumerate(cases):
        if (
            not isinstance(case, Mapping)
            or not isinstance(case.get("stdin"), str)
            or not isinstance(case.get("stdout"), str)
        ):
            raise JobError(f"{field}.cases[{i}] must have string fields stdin and stdout")
        clean.append({"stdin": case["stdin"], "stdout": case["stdout"]})
    return {"kind": kind, "cases": clean}


@dataclass(frozen=True)
class Job:
    id: str
    code: str
    tests: dict[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise JobError("id must be a non-empty string")
        if not isinstance(self.code, str):
            raise JobError(f"{self.id}: code must be a string")
        object.__setattr__(self, "tests", validate_tests(self.tests))

    @classmethod
    def from_dict(cls, data: Any) -> Job:
        if not isinstance(data, Mapping):
            raise JobError("a job must be a JSON object with id, code and tests")
        missing = [k for k in ("id", "code", "tests") if k not in data]
        if missing:
            raise JobError(f"missing field(s): {', '.join(missing)}")
        extra = sorted(set(data) - {"id", "code", "tests"})
        if extra:
            raise JobError(f"unknown field(s): {', '.join(extra)}")
        return cls(id=data["id"], code=data["code"], tests=data["tests"])

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "tests": self.tests}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))
