"""The bearer token: one per run, in `<run>/token` (mode 0600), compared in constant time;
and the Host/Origin allow-list in front of it.

Everything under `/api/` needs `Authorization: Bearer <token>` except `GET /api/health`. A 401
says how to authenticate but nothing about the server's files. Every request's `Host` (and
`Origin`, when a browser sends one) must name an allowed host: loopback names by default, the
bound address, and what `--allowed-host` adds; so a web page that rebinds its DNS name to
127.0.0.1 cannot talk to the daemon (Jupyter's and MLflow's defence).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from rlaif_tui.daemon.errors import Handler, error_response

OPEN_PATHS = frozenset({"/api/health"})
MIN_TOKEN_CHARS = 16


class TokenError(ValueError):
    """A token that cannot be used; the message says where it came from and what to do."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_token(path: Path, token: str) -> None:
    """Write `token` readable by its owner only (created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def choose_token(token: str | None, token_file: Path | None, env: str | None) -> str | None:
    """The token the user gave (flag, file, then `RLAIF_TOKEN`), or None to generate one."""
    if token is not None and token_file is not None:
        raise TokenError("give --token or --token-file, not both")
    given, source = token, "--token"
    if token_file is not None:
        try:
            given, source = token_file.read_text(encoding="utf-8").strip(), str(token_file)
        except OSError as exc:
            raise TokenError(f"--token-file {token_file}: {exc.strerror}") from None
    elif given is None and env is not None:
        given, source = env.strip(), "RLAIF_TOKEN"
    if given is None:
        return None
    if len(given) < MIN_TOKEN_CHARS or any(c.isspace() for c in given):
        raise TokenError(
            f"{source}: a token needs at least {MIN_TOKEN_CHARS} characters and no spaces "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return given


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def allowed_hosts(bind_host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """Loopback names, the bound address (unless it is a wildcard) and `extra` (lower case);
    `*` in `extra` allows any host."""
    names = set(LOOPBACK_NAMES) | {h.strip().lower().strip("[]") for h in extra}
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host.lower().strip("[]"))
    return frozenset(names)


def _hostname(value: str) -> str | None:
    """The host name of a `Host` header (`name:port`, `[::1]:port`) or an `Origin` URL."""
    try:
        parts = urlsplit(value if "://" in value else f"//{value}")
        return parts.hostname  # lower case, without brackets or port
    except ValueError:
        return None


def require_allowed_host(allowed: frozenset[str]) -> Middleware:
    """Middleware: 403 unless `Host` (and `Origin`, if sent) names an allowed host."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if "*" in allowed:
            return await handler(request)
        for header in ("Host", "Origin"):
            value = request.headers.get(header)
            if value is None and header == "Origin":
                continue
            name = _hostname(value or "")
            if name not in allowed:
                return error_response(
                    403,
                    "forbidden_host",
                    f"{header} {(value or '')[:100]!r} is not an allowed host; the daemon "
                    "answers loopback names and hosts given with --allowed-host",
                    header,
                )
        return await handler(request)

    return middleware


def require_token(token: str) -> Middleware:
    """Middleware: 401 with a JSON error unless the request carries `token`."""
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or not request.path.startswith("/api/"):
            return await handler(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            what = "wrong" if given else "missing"
            return error_response(
                401,
                "unauthorized",
                f"{what} bearer token: send `Authorization: Bearer <token>` with the run's "
                "token (the file `token` in the run directory)",
                "Authorization",
                **{"WWW-Authenticate": 'Bearer realm="rlaif"'},
            )
        return await handler(request)

    return middleware
