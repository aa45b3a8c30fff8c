"""JSON out of the daemon: never `NaN` or `Infinity`, which standard JSON parsers reject.

A metric or setting that is not finite (a diverged loss, an overflowing controller) goes out
as `null`: the client sees that the value is missing, and the stream stays parseable.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web


def finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (containers copied as needed)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere: the rare path walks the value
        return json.dumps(finite(value), allow_nan=False)


def respond(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(value, status=status, headers=headers, dumps=dumps)
