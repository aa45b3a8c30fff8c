"""Query parameters of the daemon's routes: unknown names and bad values are a 400 naming them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from rlaif_tui.daemon.errors import ApiFailure

N = TypeVar("N", int, float)


def query(request: web.Request, allowed: set[str]) -> dict[str, str]:
    """The query as a dict, or a 400 naming the first parameter the route does not take."""
    for name in request.query:
        if name not in allowed:
            raise ApiFailure(
                400,
                "invalid",
                f"unknown query parameter {name!r}; expected {sorted(allowed)}",
                name,
            )
    return {k: request.query[k] for k in request.query}


def _parsed(params: dict[str, str], name: str, parse: Callable[[str], N], what: str) -> N | None:
    """`params[name]` parsed, None if absent, or a 400 saying it is not `what`."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise ApiFailure(400, "invalid", f"{name}: not {what}: {raw[:40]!r}", name) from None


def int_param(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    value = _parsed(params, name, int, "an integer")
    if value is None:
        return default
    if not lo <= value <= hi:
        raise ApiFailure(400, "invalid", f"{name}: must be between {lo} and {hi}", name)
    return value


def float_param(params: dict[str, str], name: str) -> float | None:
    value = _parsed(params, name, float, "a number")
    if value is not None and not math.isfinite(value):
        raise ApiFailure(400, "invalid", f"{name}: must be a finite number", name)
    return value
