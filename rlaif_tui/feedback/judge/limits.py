"""Client-side limits: requests and tokens per rolling minute, and bounded concurrency.

Providers publish per-minute budgets (OpenAI's RPM/TPM, Anthropic's requests and input/output
tokens per minute); staying under them client-side avoids most 429s. A request reserves its
estimated tokens before it is sent and the reservation is corrected to the real usage after.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RollingLimit:
    """At most `limit` units per rolling `window_s` seconds (e.g. requests or tokens per minute)."""

    def __init__(
        self,
        limit: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: deque[list[float]] = deque()  # [time, units], oldest first
        self._lock = asyncio.Lock()

    def _expire(self, now: float) -> None:
        while self._events and now - self._events[0][0] >= self.window_s:
            self._events.popleft()

    def used(self) -> float:
        self._expire(self._clock())
        return sum(units for _, units in self._events)

    def _wait_for(self, units: float, now: float) -> float:
        """Seconds until `units` fit (0 if they fit now)."""
        self._expire(now)
        excess = sum(u for _, u in self._events) + units - self.limit
        if excess <= 0:
            return 0.0
        freed = 0.0
        for t, u in self._events:
            freed += u
            if freed >= excess:
                return max(0.0, t + self.window_s - now)
        return self.window_s

    async def acquire(self, units: float = 1.0) -> list[float]:
        """Wait until `units` fit, then record them; returns the entry so `adjust` can fix it.

        A request larger than the whole budget is let through alone (clamped to the limit) so it
        cannot wait forever.
        """
        units = min(float(units), float(self.limit))
        async with self._lock:  # first come, first served
            # A time window, not an event: the wait ends when old entries age out.
            while (delay := self._wait_for(units, self._clock())) > 0:  # noqa: ASYNC110
                await asyncio.sleep(delay)
            entry = [self._clock(), units]
            self._events.append(entry)
            return entry

    @staticmethod
    def adjust(entry: list[float], units: float) -> None:
        """Replace a reservation's estimate with what the request really used."""
        entry[1] = max(0.0, float(units))


class Limiter:
    """Concurrency + requests/min + tokens/min for one judge client."""

    def __init__(
        self,
        max_concurrency: int,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
    ) -> None:
        self.slots = asyncio.Semaphore(max_concurrency)
        self.requests = RollingLimit(requests_per_minute) if requests_per_minute else None
        self.tokens = RollingLimit(tokens_per_minute) if tokens_per_minute else None

    async def reserve(self, est_tokens: int) -> list[float] | None:
        """Wait for a request slot under both per-minute limits; returns the token reservation."""
        if self.requests is not None:
            await self.requests.acquire(1)
        if self.tokens is not None:
            return await self.tokens.acquire(est_tokens)
        return None

    def settle(self, reservation: list[float] | None, used_tokens: int) -> None:
        if reservation is not None:
            RollingLimit.adjust(reservation, used_tokens)
