"""Every error the daemon sends is `{"error": {"code", "message", "field"}}` (api.models.ErrorBody).

Handlers raise `ApiFailure`; the middleware turns it, aiohttp's own HTTP errors (404, 405, 413)
and pydantic validation errors into that body. Anything else is a bug in the daemon: a 500 with
code `internal`, logged with its traceback, never something a client's input can trigger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import ValidationError

log = logging.getLogger("rlaif.daemon")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
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
    return web.json_response(body, status=status, headers=headers or None)


def from_validation(exc: ValidationError, prefix: str = "") -> ApiFailure:
    """The first pydantic error as a 422 naming its field (dotted path)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    message = first["msg"].removeprefix("Value error, ")
    return ApiFailure(422, "invalid", f"{field}: {message}" if field else message, field)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def json_body(request: web.Request) -> Any:
    """The request body as JSON (NaN and Infinity refused), or a 400 naming the problem."""
    raw = await request.read()
    if not raw:
        raise ApiFailure(
            400, "invalid_json", "the request body is empty; send a JSON object", "body"
        )
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
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
        return error_response(exc.status, exc.code, exc.message, exc.field)
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
