"""`DaemonClient`: the async HTTP + websocket client of the daemon API (aiohttp).

Used by the TUI, `rlaif bench daemon` and the tests. Every route it calls is described in
`rlaif_tui/daemon/openapi.yaml`; errors come back as `ApiError` with the daemon's stable code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import aiohttp

from rlaif_tui.api.models import (
    ControlAction,
    Event,
    Rating,
    RatingIn,
    Settings,
    SettingsPatch,
    Status,
)


class ApiError(Exception):
    """A non-2xx answer from the daemon (or no answer: status 0, code `unreachable`)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


HEARTBEAT_S = 3.0
"""The event stream pings the daemon this often; no pong within half of it drops the stream,
so a daemon that is gone (or frozen, or behind a dead tunnel) shows within seconds."""
CONNECT_TIMEOUT_S = 5.0
"""Bound on opening the event stream (TCP connect + websocket handshake)."""


class DaemonClient:
    """One connection to a daemon at `url` (e.g. `http://127.0.0.1:8765`) with its token."""

    def __init__(self, url: str, token: str | None, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with self._http().request(
                method, f"{self.url}{path}", params=query, json=body, headers=self._headers
            ) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise _error_from(resp.status, text)
                return json.loads(text) if text else None
        except aiohttp.ClientConnectionError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.url}: {exc}") from exc

    async def health(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/api/health"))

    async def status(self) -> Status:
        return Status.model_validate(await self._request("GET", "/api/status"))

    async def metrics(self, since: int = 0) -> list[dict[str, Any]]:
        """Metric points (one per step, `metrics.jsonl` lines) with `step > since`."""
        body = await self._request("GET", "/api/metrics", params={"since": since})
        return list(body["metrics"])

    async def samples(
        self,
        *,
        offset: int = 0,
        limit: int = 50,
        problem: str | None = None,
        min_reward: float | None = None,
        max_reward: float | None = None,
        status: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of sample records, newest first, and the total matching the filter."""
        params = {
            "offset": offset,
            "limit": limit,
            "problem": problem,
            "min_reward": min_reward,
            "max_reward": max_reward,
            "status": status,
        }
        body = await self._request("GET", "/api/samples", params=params)
        return list(body["samples"]), int(body["total"])

    async def sample(self, sample_id: str) -> dict[str, Any]:
        """`{"sample": record, "group": [records of the same group]}`."""
        return dict(await self._request("GET", f"/api/samples/{sample_id}"))

    async def rate(self, rating: RatingIn) -> Rating:
        body = rating.model_dump(exclude_none=True)
        return Rating.model_validate(await self._request("POST", "/api/ratings", body=body))

    async def ratings(self) -> list[Rating]:
        body = await self._request("GET", "/api/ratings")
        return [Rating.model_validate(r) for r in body["ratings"]]

    async def control(self, action: ControlAction) -> Status:
        return Status.model_validate(await self._request("POST", f"/api/control/{action}"))

    async def settings(self) -> Settings:
        return Settings.model_validate(await self._request("GET", "/api/settings"))

    async def update_settings(self, patch: SettingsPatch) -> Settings:
        body = patch.model_dump(exclude_none=True)
        return Settings.model_validate(await self._request("PATCH", "/api/settings", body=body))

    async def config(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/api/config"))

    async def events(
        self,
        since: int | None = None,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> AsyncIterator[Event]:
        """Frames of `/api/events`: a `snapshot` first, then live events, until closed.

        A daemon that closes a lagging client with 1013 (try again later) is reconnected to
        with `?since=<last id>`, so the frames it missed follow without a gap (or a fresh
        snapshot if they are gone); up to `RECONNECTS_1013` times in a row. Raises `ApiError`
        (status 0, code `unreachable`) when the daemon cannot be reached, stops answering
        pings, or the stream drops without a close frame."""
        last, tries = since, 0
        while True:
            stream = _Stream(self, last, heartbeat_s, connect_timeout_s)
            async for event in stream:
                last, tries = event.id, 0
                yield event
            if stream.close_code != aiohttp.WSCloseCode.TRY_AGAIN_LATER:
                return
            if tries >= RECONNECTS_1013:
                return
            tries += 1
            await asyncio.sleep(min(0.25 * 2**tries, 5.0))


RECONNECTS_1013 = 5
"""Reconnections after consecutive 1013 closes with no frame in between."""


class _Stream:
    """One websocket connection of `events`; `close_code` is the daemon's, once it ends."""

    def __init__(
        self, client: DaemonClient, since: int | None, heartbeat_s: float, connect_timeout_s: float
    ) -> None:
        self.client, self.since = client, since
        self.heartbeat_s, self.connect_timeout_s = heartbeat_s, connect_timeout_s
        self.close_code: int | None = None

    async def __aiter__(self) -> AsyncIterator[Event]:
        c = self.client
        params = {"since": str(self.since)} if self.since is not None else {}
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                ws = await c._http().ws_connect(
                    f"{c.url}/api/events",
                    params=params,
                    headers=c._headers,
                    heartbeat=self.heartbeat_s,
                    # a lost peer never answers our close frame: don't wait 10 s for it
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=1.0),
                )
        except aiohttp.WSServerHandshakeError as exc:
            raise ApiError(exc.status, _code_for(exc.status), exc.message) from exc
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise ApiError(0, "unreachable", f"cannot reach {c.url}: {exc!r}") from exc
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    yield Event.model_validate_json(msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        except aiohttp.ClientConnectionError as exc:
            raise ApiError(0, "unreachable", f"lost {c.url}: {exc}") from exc
        finally:
            await ws.close()
        self.close_code = ws.close_code
        if ws.close_code is None or ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE:
            # no close frame: the heartbeat timed out or the connection was cut
            raise ApiError(0, "unreachable", f"lost {c.url}: no answer to the heartbeat")


def _code_for(status: int) -> str:
    return {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "http_error")


def _error_from(status: int, text: str) -> ApiError:
    try:
        detail = json.loads(text)["error"]
        return ApiError(status, detail["code"], detail["message"], detail.get("field"))
    except (ValueError, KeyError, TypeError):
        return ApiError(status, _code_for(status), text[:200] or f"HTTP {status}")
