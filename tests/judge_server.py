"""A real judge server on 127.0.0.1 for tests: speaks the OpenAI chat-completions API
(`POST /v1/chat/completions`) and the Anthropic messages API (`POST /v1/messages`).

It grades each candidate in the user message with `grade(code) -> int` (1-10) and can be told to
misbehave, one request at a time, through `script`: `slow:S` (answer after S seconds),
`429:S` (rate limited, `Retry-After: S`), `500`, `529`, `malformed` (a 200 that is not JSON),
`unparseable` (a well-formed answer whose text holds no score), `400`. It runs its own event
loop on a thread, so a synchronous caller may block on it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from rlaif_tui.config.judge import DEFAULT_CRITERIA
from rlaif_tui.feedback.judge.rubric import CANDIDATE_MARK

CODE = re.compile(re.escape(CANDIDATE_MARK) + r" \d+\n```python\n(.*?)\n```", re.DOTALL)


def default_grade(code: str) -> int:
    """A stand-in reviewer: likes code that returns something and dislikes prints and `pass`."""
    score = 5
    score += 3 if "return" in code else 0
    score -= 3 if "print(" in code else 0
    score -= 2 if re.search(r"^\s*pass\s*$", code, re.MULTILINE) else 0
    return max(1, min(10, score))


class JudgeServer:
    def __init__(self, grade: Callable[[str], int] = default_grade, key: str | None = None):
        self.grade = grade
        self.key = key
        self.solve: Callable[[str], str] | None = None
        """Teacher mode: answers a request whose system prompt asks for a solution."""
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> JudgeServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.post("/v1/chat/completions", self._openai),
                web.post("/v1/messages", self._anthropic),
            ]
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ----- grading -----------------------------------------------------------------------

    def answer_text(self, system: str, user: str) -> str:
        if self.solve is not None and "writing a correct" in system:
            return "Here is a solution:\n```python\n" + self.solve(user) + "```\n"
        codes = CODE.findall(user)
        scored = [{name: self.grade(code) for name in DEFAULT_CRITERIA} for code in codes]
        if '"scores"' in system:
            return "Here you go:\n```json\n" + json.dumps({"scores": scored}) + "\n```"
        return json.dumps(scored[0] if scored else {})

    async def _misbehave(self) -> web.Response | str | None:
        """The scripted fault for this request: a response to send, 'unparseable', or None."""
        action = self.script.popleft() if self.script else "ok"
        kind, _, arg = action.partition(":")
        if kind == "slow":
            await asyncio.sleep(float(arg))
            return None
        if kind == "429":
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit_error"}},
                status=429,
                headers={"Retry-After": arg or "1"},
            )
        if kind in ("500", "529", "400", "401"):
            return web.json_response({"error": {"message": f"scripted {kind}"}}, status=int(kind))
        if kind == "malformed":
            return web.Response(
                text='{"choices": [ this is not json', content_type="application/json"
            )
        if kind == "unparseable":
            return "unparseable"
        return None

    async def _enter(self, request: web.Request, api: str) -> dict[str, Any]:
        body = await request.json()
        self.requests.append({"api": api, "headers": dict(request.headers), "body": body})
        self.request_times.append(time.monotonic())
        return dict(body)

    def _authorised(self, request: web.Request, api: str) -> bool:
        if self.key is None:
            return True
        if api == "openai":
            return request.headers.get("Authorization") == f"Bearer {self.key}"
        return request.headers.get("x-api-key") == self.key

    async def _serve(self, request: web.Request, api: str) -> tuple[web.Response | None, str]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = await self._enter(request, api)
            if not self._authorised(request, api):
                return web.json_response({"error": {"message": "bad key"}}, status=401), ""
            fault = await self._misbehave()
            if isinstance(fault, web.Response):
                return fault, ""
            if api == "openai":
                system = body["messages"][0]["content"]
                user = body["messages"][-1]["content"]
            else:
                system = body.get("system", "")
                user = body["messages"][-1]["content"]
            text = (
                "I think it is fine." if fault == "unparseable" else self.answer_text(system, user)
            )
            return None, text
        finally:
            self.in_flight -= 1

    async def _openai(self, request: web.Request) -> web.Response:
        resp, text = await self._serve(request, "openai")
        if resp is not None:
            return resp
        return web.json_response(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "judge-test",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            }
        )

    async def _anthropic(self, request: web.Request) -> web.Response:
        resp, text = await self._serve(request, "anthropic")
        if resp is not None:
            return resp
        return web.json_response(
            {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "model": "judge-test",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 90, "output_tokens": 30},
            }
        )
