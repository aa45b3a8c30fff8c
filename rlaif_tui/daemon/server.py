"""The aiohttp application: routes of docs/architecture.md "Daemon", described in openapi.yaml.

The HTTP routes are here; the websocket stream (`/api/events`) is `daemon/stream.py`, and
query parameter parsing `daemon/params.py`.

Handlers validate what a client sends (a 4xx naming the field, never a 5xx), read the runner's
published state, and send control to it; storage goes through the ratings store on its own
thread so an fsync never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web
from pydantic import BaseModel, ValidationError

from rlaif_tui import __version__
from rlaif_tui.api.models import ControlAction, RatingIn, SettingsPatch
from rlaif_tui.daemon.auth import LOOPBACK_NAMES, require_allowed_host, require_token
from rlaif_tui.daemon.errors import ApiFailure, from_validation, json_body, json_errors
from rlaif_tui.daemon.hub import EventHub
from rlaif_tui.daemon.jsonout import respond
from rlaif_tui.daemon.params import float_param, int_param, query
from rlaif_tui.daemon.runner import Runner
from rlaif_tui.daemon.samples import STATUSES, SampleFilter
from rlaif_tui.daemon.store import RatingConflict, RatingsStore, StorageFull
from rlaif_tui.daemon.stream import events, setup_stream

OPENAPI = Path(__file__).with_name("openapi.yaml")
MAX_BODY = 64 * 1024
"""Largest request body accepted (a rating with a long comment is a few KiB)."""
MAX_PAGE = 500


@dataclass
class Daemon:
    """What the handlers share."""

    runner: Runner
    hub: EventHub
    store: RatingsStore
    config: dict[str, Any]
    store_thread: ThreadPoolExecutor
    wait_s: float = 5.0
    """How long control and settings requests wait for the step boundary before answering 202."""

    async def in_store(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.store_thread, fn, *args)


daemon_key = web.AppKey("daemon", Daemon)


def make_app(daemon: Daemon, token: str, hosts: frozenset[str] = LOOPBACK_NAMES) -> web.Application:
    """The app; `hosts` are the names `Host` and `Origin` may carry (auth.allowed_hosts)."""
    app = web.Application(
        middlewares=[json_errors(MAX_BODY), require_allowed_host(hosts), require_token(token)],
        client_max_size=MAX_BODY,
    )
    app[daemon_key] = daemon
    setup_stream(app, daemon.hub)
    app.add_routes(
        [
            web.get("/api/health", health),
            web.get("/api/status", status),
            web.get("/api/openapi.json", openapi),
            web.get("/api/metrics", metrics),
            web.get("/api/samples", samples),
            web.get("/api/samples/{id}", sample),
            web.post("/api/ratings", post_rating),
            web.get("/api/ratings", ratings),
            web.post("/api/control/{action}", control),
            web.get("/api/settings", get_settings),
            web.patch("/api/settings", patch_settings),
            web.get("/api/config", config),
            web.get("/api/events", events),
        ]
    )
    return app


def _daemon(request: web.Request) -> Daemon:
    return request.app[daemon_key]


# ----- routes -----------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return respond({"status": "ok", "version": __version__})


async def status(request: web.Request) -> web.Response:
    query(request, set())
    return respond(_daemon(request).runner.status().model_dump(mode="json"))


@cache
def _openapi_document() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    doc["info"]["version"] = __version__
    return doc


async def openapi(request: web.Request) -> web.Response:
    return respond(_openapi_document())


async def metrics(request: web.Request) -> web.Response:
    params = query(request, {"since"})
    since = int_param(params, "since", 0, -1, 2**53)
    points = [p for p in _daemon(request).runner.metrics if int(p.get("step", 0)) > since]
    return respond({"metrics": points})


async def samples(request: web.Request) -> web.Response:
    params = query(request, {"offset", "limit", "problem", "min_reward", "max_reward", "status"})
    offset = int_param(params, "offset", 0, 0, 2**31)
    limit = int_param(params, "limit", 50, 1, MAX_PAGE)
    state = params.get("status")
    if state is not None and state not in STATUSES:
        raise ApiFailure(
            400, "invalid", f"status: {state[:40]!r} is not one of {sorted(STATUSES)}", "status"
        )
    keep = SampleFilter(
        problem=params.get("problem"),
        min_reward=float_param(params, "min_reward"),
        max_reward=float_param(params, "max_reward"),
        status=state,
    )
    page, total = _daemon(request).runner.samples.page(keep, offset, limit)
    return respond({"samples": page, "total": total})


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], body: Any) -> M:
    """`body` as `model`, or a 422 naming the first bad field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise from_validation(exc) from None


async def sample(request: web.Request) -> web.Response:
    query(request, set())
    index = _daemon(request).runner.samples
    record = index.get(request.match_info["id"])
    if record is None:
        raise ApiFailure(404, "not_found", "no sample with this id in this run", "id")
    return respond({"sample": record, "group": index.group(record)})


async def post_rating(request: web.Request) -> web.Response:
    query(request, set())
    d = _daemon(request)
    body = await json_body(request)
    rating = _validated(RatingIn, body)
    index = d.runner.samples
    named = {
        key: value
        for key in ("sample_id", "chosen_id", "rejected_id")
        if (value := getattr(rating, key)) is not None
    }
    found: dict[str, dict[str, Any]] = {}
    for key, sid in named.items():
        record = index.get(sid)
        if record is None:
            if await d.in_store(d.store.get, rating.id) is not None:
                found = {}  # a retry of a stored rating whose sample has left memory
                break
            raise ApiFailure(404, "not_found", f"{key}: no sample {sid!r} in this run", key)
        found[key] = record
    if found:
        _check_rating(rating, found)
    texts = {str(r["id"]): r for r in found.values()}
    try:
        stored, created = await d.in_store(d.store.add, rating, d.runner.step, texts)
    except RatingConflict as exc:
        raise ApiFailure(409, "conflict", str(exc), "id") from None
    except StorageFull as exc:
        raise ApiFailure(507, "disk_full", str(exc)) from None
    if created:
        d.runner.rating_stored(stored)
        await asyncio.get_running_loop().run_in_executor(None, d.runner.deliver, stored)
    return _rating_response(stored, created=created)


def _check_rating(rating: RatingIn, found: dict[str, dict[str, Any]]) -> None:
    """A preference compares samples of one group; confirmed flags are flags the sample has."""
    chosen, rejected = found.get("chosen_id"), found.get("rejected_id")
    same_group = chosen is None or rejected is None or chosen["group_id"] == rejected["group_id"]
    if not same_group:
        raise ApiFailure(
            422,
            "invalid",
            "rejected_id: a preference compares two samples of the same group",
            "rejected_id",
        )
    if rating.confirm_flags:
        target = found["sample_id" if rating.kind == "score" else "rejected_id"]
        carried = set(target.get("flags") or []) | set(
            (target.get("outcome") or {}).get("flags") or []
        )
        unknown = sorted(set(rating.confirm_flags) - carried)
        if unknown:
            raise ApiFailure(
                422,
                "invalid",
                f"confirm_flags: the sample does not carry {unknown}; it has {sorted(carried)}",
                "confirm_flags",
            )


def _rating_response(rating: Any, *, created: bool) -> web.Response:
    return respond(rating.model_dump(mode="json"), status=201 if created else 200)


async def ratings(request: web.Request) -> web.StreamResponse:
    params = query(request, {"format"})
    fmt = params.get("format", "json")
    d = _daemon(request)
    if fmt == "json":
        stored = await d.in_store(d.store.all)
        return respond({"ratings": [r.model_dump(mode="json") for r in stored]})
    if fmt == "jsonl":
        stored = await d.in_store(d.store.all)
        lines = [r.model_dump_json() for r in stored]
    elif fmt == "pairs":
        lines = [json.dumps(p, ensure_ascii=False) for p in await d.in_store(_pairs, d.store)]
    else:
        raise ApiFailure(400, "invalid", "format: expected json, jsonl or pairs", "format")
    return web.Response(
        text="".join(line + "\n" for line in lines), content_type="application/x-ndjson"
    )


def _pairs(store: RatingsStore) -> list[dict[str, str]]:
    return list(store.pairs())


async def control(request: web.Request) -> web.Response:
    query(request, set())
    action = request.match_info["action"]
    d = _daemon(request)
    runner = d.runner
    actions: tuple[ControlAction, ...] = ("pause", "resume", "checkpoint", "stop")
    if action not in actions:
        raise ApiFailure(404, "not_found", f"no control action {action!r}; expected {actions}")
    done = True
    if action == "pause":
        runner.pause()
    elif action == "resume":
        runner.resume()
    elif action == "stop":
        runner.request_stop()
    else:
        done = await runner.checkpoint(d.wait_s)
    body = runner.status().model_dump(mode="json")
    return respond(body, status=200 if done else 202)


async def get_settings(request: web.Request) -> web.Response:
    query(request, set())
    return respond(_daemon(request).runner.settings.model_dump(mode="json"))


async def patch_settings(request: web.Request) -> web.Response:
    query(request, set())
    d = _daemon(request)
    body = await json_body(request)
    patch = _validated(SettingsPatch, body)
    settings, applied = await d.runner.update_settings(patch, d.wait_s)
    return respond(settings.model_dump(mode="json"), status=200 if applied else 202)


async def config(request: web.Request) -> web.Response:
    query(request, set())
    return respond(_daemon(request).config)
