"""Query parameters of the daemon's routes: unknown names and bad values are a 400 naming them."""

from __future__ import annotations

import math

from aiohttp import web

from rlaif_tui.daemon.errors import ApiFailure


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


def int_param(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiFailure(400, "invalid", f"{name}: not an integer: {raw[:40]!r}", name) from None
    if not lo <= value <= hi:
        raise ApiFailure(400, "invalid", f"{name}: must be between {lo} and {hi}", name)
    return value


def float_param(params: dict[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiFailure(400, "invalid", f"{name}: not a number: {raw[:40]!r}", name) from None
    if not math.isfinite(value):
        raise ApiFailure(400, "invalid", f"{name}: must be a finite number", name)
    return value
