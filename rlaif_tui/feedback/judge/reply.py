"""What every judge backend hands back, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    text: str
    input_tokens: int
    output_tokens: int


class JudgeError(Exception):
    """A judge request that failed for good (after any retries)."""

    kind = "error"


class JudgeHTTPError(JudgeError):
    kind = "http"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class JudgeTimeout(JudgeError):
    kind = "timeout"


class JudgeMalformed(JudgeError, ValueError):
    """The server answered 2xx with a body that is not the API's JSON shape."""

    kind = "malformed"
