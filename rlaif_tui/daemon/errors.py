"""Every error the daemon sends is `{"error": {"code", "message", "field"}}` (api.models.ErrorBody).

Handlers raise `ApiFailure`; the middleware turns it, aiohttp's own HTTP errors (404, 405, 413)
and pydantic validation errors into that body. Anything else is a bug in the daemon: a 500 with
code `internal`, logged with its traceback, never something a client's input can trigger.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import ValidationError

from rlaif_tui.daemon.jsonout import respond

log = logging.getLogger("rlaif.daemon")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    507: "disk_full",
}


class ApiFailure(Exception):
    """A client error with a stable code and, where one is to blame, the field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_response(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> web.Response:
    body = {"error": {"code": code, "message": message, "field": field}}
    return respond(body, status=status, headers=headers or None)


def from_validation(exc: ValidationError, prefix: str = "") -> ApiFailure:
    """The first pydantic error as a 422 naming its field (dotted path)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    message = first["msg"].removeprefix("Value error, ")
    return ApiFailure(422, "invalid", f"{field}: {message}" if field else message, field)


MAX_DEPTH = 16
"""Deepest nesting of arrays and objects accepted in a body (ours need 3)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def nesting_depth(raw: bytes) -> int:
    """How deeply `raw`'s arrays and objects nest (brackets inside strings do not count),
    measured before parsing so a deep body never reaches the recursive parser."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _top_key_of_deepest(raw: bytes) -> str:
    """The top-level key under which the body nests too deeply, for the error's `field`."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return "body"
    depth, key, in_string, escaped, start = 0, "body", False, False, 0
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                if depth == 1 and text[i + 1 :].lstrip().startswith(":"):
                    key = text[start:i]
        elif ch == '"':
            in_string, start = True, i + 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return key
        elif ch in "]}":
            depth -= 1
    return key


JSON_TYPES = frozenset({"application/json"})
body_timeout_key = web.AppKey("body_timeout_s", float)
"""Seconds a body may take to arrive (guard.REQUEST_TIMEOUT_S unless the app sets it)."""


async def json_body(request: web.Request) -> Any:
    """The request body as JSON, or a 4xx naming the problem: 415 for another content type
    (a form or text/plain body is not parsed as JSON), 400 for JSON that is malformed, uses
    NaN/Infinity, or nests deeper than `MAX_DEPTH` (413 for a body over the size limit comes
    from aiohttp)."""
    if request.content_type not in JSON_TYPES:
        raise ApiFailure(
            415,
            "unsupported_media_type",
            f"Content-Type {request.content_type} is not accepted; send application/json",
            "Content-Type",
        )
    timeout_s = request.app.get(body_timeout_key, 10.0)
    try:
        async with asyncio.timeout(timeout_s):
            raw = await request.read()
    except TimeoutError:
        raise ApiFailure(
            408, "timeout", f"the body did not arrive within {timeout_s:g} s", "body"
        ) from None
    if not raw:
        raise ApiFailure(
            400, "invalid_json", "the request body is empty; send a JSON object", "body"
        )
    if nesting_depth(raw) > MAX_DEPTH:
        field = _top_key_of_deepest(raw)
        raise ApiFailure(
            400,
            "too_deep",
            f"{field}: nested more than {MAX_DEPTH} levels deep",
            field,
        )
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiFailure(400, "invalid_json", f"the body is not JSON: {exc}", "body") from None


def json_errors(max_body: int) -> Middleware:
    """The middleware that makes every failure a JSON error body."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await _guarded(request, handler, max_body)

    return middleware


async def _guarded(request: web.Request, handler: Handler, max_body: int) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiFailure as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.field)
        if exc.status == 408:
            response.force_close()  # the rest of a stalled body is not waited for
        return response
    except ValidationError as exc:
        failure = from_validation(exc)
        return error_response(failure.status, failure.code, failure.message, failure.field)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _CODES.get(exc.status, "http_error")
        message = exc.reason
        if exc.status == 404:
            message = f"no such route: {request.method} {request.path}"
        elif exc.status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        elif exc.status == 413:
            message = f"the body is larger than {max_body} bytes"
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return error_response(
            exc.status, code, message, "body" if exc.status == 413 else None, **headers
        )
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(500, "internal", "the daemon failed; see its log")
