"""POST with retries: backoff on 429, 5xx (and Anthropic's 529), timeouts, dropped connections
and malformed bodies; a `Retry-After` (or `retry-after-ms`) header sets the wait when given.

Other 4xx answers (bad request, bad key, unknown model) are not retried: they will not heal.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from rlaif_tui.config.judge import LimitsConfig
from rlaif_tui.feedback.judge.reply import JudgeError, JudgeHTTPError, JudgeMalformed, JudgeTimeout

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def retry_after_s(headers: Any, now: float | None = None) -> float | None:
    """Seconds a server asked us to wait: `retry-after-ms`, or `Retry-After` (seconds or date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Attempts:
    """What one logical request cost: tries made and why the retries happened."""

    tries: int = 0
    retry_reasons: list[str] | None = None

    def note(self, reason: str) -> None:
        if self.retry_reasons is None:
            self.retry_reasons = []
        self.retry_reasons.append(reason)


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
        err = data.get("error", data)
        return str(err.get("message", err) if isinstance(err, dict) else err)[:300]
    except (ValueError, AttributeError):
        return body[:300].decode("utf-8", "replace")


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    limits: LimitsConfig,
    attempts: Attempts,
    *,
    parse: Callable[[Any], Any],
    rng: random.Random | None = None,
) -> Any:
    """POST `body` as JSON and return `parse(answer JSON)`, retrying what is worth retrying."""
    rng = rng or random.Random()
    timeout = aiohttp.ClientTimeout(total=limits.timeout_s)
    last: JudgeError = JudgeError("no attempt made")
    for attempt in range(limits.max_retries + 1):
        attempts.tries += 1
        wait: float | None = None
        try:
            async with session.post(url, json=body, headers=headers, timeout=timeout) as resp:
                raw = await resp.read()
                if resp.status in RETRY_STATUSES:
                    last = JudgeHTTPError(resp.status, _message(raw))
                    wait = retry_after_s(resp.headers)
                    attempts.note(str(resp.status))
                elif resp.status >= 400:
                    raise JudgeHTTPError(resp.status, _message(raw))
                else:
                    try:
                        return parse(json.loads(raw))
                    except ValueError as exc:  # JSONDecodeError, or a JudgeMalformed
                        last = (
                            exc
                            if isinstance(exc, JudgeMalformed)
                            else JudgeMalformed(f"the answer is not JSON: {raw[:120]!r}")
                        )
                        attempts.note("malformed")
        except TimeoutError:
            last = JudgeTimeout(f"no answer within {limits.timeout_s:g} s")
            attempts.note("timeout")
        except aiohttp.ClientError as exc:
            last = JudgeError(f"connection failed: {exc}")
            attempts.note("connection")
        if attempt == limits.max_retries:
            break
        if wait is None:
            wait = limits.backoff_s * 2**attempt * rng.uniform(0.75, 1.25)
        await asyncio.sleep(min(wait, limits.max_backoff_s))
    raise last
