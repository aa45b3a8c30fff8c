"""`GET /api/events`: the websocket event stream of docs/architecture.md "Daemon".

One subscription to the hub per client (`daemon/hub.py` decides what each client gets): frames
go straight to the client's transport while its socket keeps up, else through the client's
bounded queue and a pump task; a client the hub drops is closed with `TRY_AGAIN_LATER` and a
reason that says where to resume.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSCloseCode, WSMsgType, web

from rlaif_tui.daemon.errors import ApiFailure
from rlaif_tui.daemon.hub import EventHub, Subscriber, Write
from rlaif_tui.daemon.params import int_param, query

Sockets = set[web.WebSocketResponse]
sockets_key: web.AppKey[Sockets] = web.AppKey("sockets", Sockets)
hub_key = web.AppKey("hub", EventHub)

WRITE_BUFFER_LIMIT = 64 * 1024
"""Bytes a client's socket may hold unsent before frames for it wait in its queue instead."""


def setup_stream(app: web.Application, hub: EventHub) -> None:
    """What `events` needs in `app`: the hub, the open sockets, and closing them at shutdown."""
    app[hub_key] = hub
    app[sockets_key] = set()
    app.on_shutdown.append(close_sockets)


async def events(request: web.Request) -> web.StreamResponse:
    params = query(request, {"since"})
    since = None if "since" not in params else int_param(params, "since", 0, 0, 2**53)
    hub = request.app[hub_key]
    # No per-message deflate: it would compress every frame once per client.
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096, compress=False)
    if not ws.can_prepare(request).ok:
        raise ApiFailure(400, "websocket_required", "connect with a websocket upgrade")
    await ws.prepare(request)
    sockets = request.app[sockets_key]
    sockets.add(ws)
    tasks: list[asyncio.Task[None]] = []

    def dropped() -> None:  # the hub found this client's queue full
        for task in tasks:
            task.cancel()
        reason = f"too slow: {sub.limit} frames behind; reconnect with ?since={sub.sent_id}"
        tasks.append(asyncio.create_task(_close(ws, request, WSCloseCode.TRY_AGAIN_LATER, reason)))

    sub = hub.subscribe(since, on_drop=dropped, write=_direct_writer(ws, request))
    sub.sent_id = since or 0
    tasks.append(asyncio.create_task(_pump(sub, ws)))
    try:
        async for msg in ws:  # clients send nothing we act on; this notices them leaving
            if msg.type is WSMsgType.ERROR:
                break
    finally:
        hub.unsubscribe(sub)
        for task in tasks:
            task.cancel()
        sockets.discard(ws)
        await _close(ws, request, WSCloseCode.OK)
    return ws


def _direct_writer(ws: web.WebSocketResponse, request: web.Request) -> Write:
    """Writes the hub's ready-made websocket frames straight to the client's transport.

    Whole frames only, from the loop's thread, so they never interleave with a frame that
    aiohttp writes (pings, close) mid-way. Refuses while the socket is closing or holds more
    than `WRITE_BUFFER_LIMIT` unsent bytes: the frames then queue, and the pump sends them
    with aiohttp's flow control."""
    transport = request.transport

    def write(data: bytes) -> bool:
        if ws.closed or transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            return False
        transport.write(data)
        return True

    return write


async def _pump(sub: Subscriber, ws: web.WebSocketResponse) -> None:
    """Send what queues for `sub`: all at once if the socket takes it, else frame by frame
    (aiohttp's send waits for the socket to drain)."""
    with contextlib.suppress(ConnectionError, RuntimeError):
        while True:
            await sub.ready()
            if sub.write_queued():
                continue
            frame = sub.frames.popleft()
            sub.sending = True
            try:
                await ws.send_frame(frame.data, WSMsgType.TEXT)  # the hub's bytes, shared
            finally:
                sub.sending = False
            sub.sent_id = frame.id


async def _close(
    ws: web.WebSocketResponse, request: web.Request, code: int, reason: str = ""
) -> None:
    """Close `ws`, or cut the connection if the client does not take the close frame."""
    if ws.closed:
        return
    try:
        await asyncio.wait_for(ws.close(code=code, message=reason.encode()[:120]), 5.0)
    except (TimeoutError, ConnectionError, RuntimeError):
        if request.transport is not None:
            request.transport.abort()


async def close_sockets(app: web.Application) -> None:
    sockets: Sockets = app[sockets_key]
    for ws in list(sockets):
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"the daemon is shutting down"), 2.0
            )
