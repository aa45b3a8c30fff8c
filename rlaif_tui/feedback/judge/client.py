"""`JudgeClient`: the asynchronous judge — rubric prompt, limits, retries, cache and meter.

`judge(prompt, completion)` and `judge_group(prompt, completions)` never raise for a judge
fault: a request that failed for good or an answer without a usable score gives `None` (counted
in the meter as `failures` or `unparseable`), so training goes on without the judge term.
`complete(system, user)` is the raw call the teacher uses; it raises `JudgeError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp

from rlaif_tui._reward import RewardCache
from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge import rubric as rb
from rlaif_tui.feedback.judge.anthropic import AnthropicMessages
from rlaif_tui.feedback.judge.limits import Limiter
from rlaif_tui.feedback.judge.meter import Meter
from rlaif_tui.feedback.judge.openai import OpenAIChat
from rlaif_tui.feedback.judge.reply import JudgeError, Reply
from rlaif_tui.feedback.judge.retry import Attempts, post_json

CACHE_VERSION = "judge v1"


class JudgeConfigError(ValueError):
    """A judge that cannot be set up (e.g. its API key variable is not set)."""


class Backend(Protocol):
    name: str
    url: str
    headers: dict[str, str]

    def body(self, system: str, user: str) -> dict[str, Any]: ...
    def parse(self, data: Any) -> Reply: ...


def make_backend(cfg: JudgeConfig, env: Mapping[str, str] | None = None) -> Backend:
    env = os.environ if env is None else env
    key_env = cfg.resolved_key_env()
    key = env.get(key_env) if key_env else None
    if key_env and not key:
        raise JudgeConfigError(
            f"judge.api_key_env: environment variable {key_env} is not set; export it, or set "
            "judge.api_key_env: '' for a server that needs no key"
        )
    if cfg.provider == "openai":
        return OpenAIChat(cfg, key)
    if cfg.provider == "anthropic":
        return AnthropicMessages(cfg, key)
    raise JudgeConfigError(f"judge.provider {cfg.provider!r} is not an HTTP judge")


class JudgeClient:
    def __init__(
        self,
        cfg: JudgeConfig,
        *,
        meter: Meter | None = None,
        env: Mapping[str, str] | None = None,
        log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.backend = make_backend(cfg, env)
        self.meter = meter or Meter(cfg.price_input_per_mtok, cfg.price_output_per_mtok)
        lim = cfg.limits
        self.limiter = Limiter(lim.max_concurrency, lim.requests_per_minute, lim.tokens_per_minute)
        self.cache = RewardCache(max_entries=cfg.cache_entries) if cfg.cache_entries else None
        self.rubric_id = rb.rubric_digest(cfg.rubric)
        self.last_error: str | None = None
        self._log = log
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> JudgeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def fault(self, key: str, message: str) -> None:
        self.meter.add(key)
        self.last_error = message
        if self._log is not None:
            self._log("warning", f"judge: {message}")

    async def complete(self, system: str, user: str) -> Reply:
        """One request under the limits, with retries; raises `JudgeError` if it fails for good."""
        est = (len(system) + len(user)) // 4 + self.cfg.max_tokens
        async with self.limiter.slots:
            reservation = await self.limiter.reserve(est)
            attempts = Attempts()
            try:
                reply: Reply = await post_json(
                    self._session_now(),
                    self.backend.url,
                    self.backend.headers,
                    self.backend.body(system, user),
                    self.cfg.limits,
                    attempts,
                    parse=self.backend.parse,
                )
            except JudgeError:
                self.limiter.settle(reservation, 0)
                raise
            finally:
                self.meter.add("requests", attempts.tries)
                self.meter.add("retries", max(0, attempts.tries - 1))
            self.limiter.settle(reservation, reply.input_tokens + reply.output_tokens)
        self.meter.tokens(reply.input_tokens, reply.output_tokens)
        return reply

    def _key(self, prompt: str, completions: list[str]) -> str:
        mode = "group" if len(completions) > 1 or self.cfg.mode == "group" else "pointwise"
        parts = [CACHE_VERSION, self.backend.name, self.cfg.model, self.rubric_id, mode, prompt]
        return RewardCache.key([*parts, *completions])

    def _cached(self, key: str) -> list[rb.Judgement] | None:
        if self.cache is None:
            return None
        hit = self.cache.get(key)
        if hit is None:
            return None
        self.meter.add("cache_hits")
        return [rb.Judgement(j["score"], j["criteria"]) for j in json.loads(hit)]

    def _store(self, key: str, judgements: list[rb.Judgement]) -> None:
        if self.cache is not None:
            self.cache.put(key, json.dumps([j.__dict__ for j in judgements]))

    async def judge(self, prompt: str, completion: str) -> rb.Judgement | None:
        """Score one completion; None if the judge failed or gave no usable score."""
        key = self._key(prompt, [completion])
        cached = self._cached(key)
        if cached is not None:
            return cached[0]
        system = rb.system_prompt(self.cfg.rubric)
        user = rb.user_message(prompt, [completion], self.cfg.max_code_chars)
        try:
            reply = await self.complete(system, user)
        except JudgeError as exc:
            self.fault("failures", str(exc))
            return None
        try:
            judgement = rb.parse_scores(reply.text, self.cfg.rubric)
        except rb.UnparseableScore as exc:
            self.fault("unparseable", str(exc))
            return None
        self._store(key, [judgement])
        self.meter.add("scored")
        return judgement

    async def judge_group(self, prompt: str, completions: list[str]) -> list[rb.Judgement | None]:
        """Score a prompt's completions relative to each other in one request."""
        if len(completions) < 2:
            return [await self.judge(prompt, c) for c in completions]
        key = self._key(prompt, completions)
        cached = self._cached(key)
        if cached is not None:
            return list(cached)
        system = rb.system_prompt(self.cfg.rubric, group=len(completions))
        user = rb.user_message(prompt, completions, self.cfg.max_code_chars)
        try:
            reply = await self.complete(system, user)
        except JudgeError as exc:
            self.fault("failures", str(exc))
            return [None] * len(completions)
        try:
            judgements = rb.parse_group_scores(reply.text, self.cfg.rubric, len(completions))
        except rb.UnparseableScore as exc:
            self.fault("unparseable", str(exc))
            return [None] * len(completions)
        self._store(key, judgements)
        self.meter.add("scored", len(judgements))
        return list(judgements)
