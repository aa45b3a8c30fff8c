"""The HTTP judge against a real local server speaking the OpenAI and Anthropic APIs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from judge_server import JudgeServer

from rlaif_tui.config.judge import JudgeConfig, LimitsConfig, RubricConfig
from rlaif_tui.feedback.judge.background import BackgroundJudge, JudgeItem
from rlaif_tui.feedback.judge.client import JudgeClient, JudgeConfigError

GOOD = "    return a + b\n"  # default_grade: 8 -> (8 - 1) / 9
BAD = "    print(a)\n    pass\n"  # 5 - 3 - 2 = 0 -> clamped to 1 -> 0.0
ENV = {"JUDGE_KEY": "sk-test"}


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer(key="sk-test") as srv:
        yield srv


def cfg_for(server: JudgeServer, provider: str = "openai", **limits: float) -> JudgeConfig:
    url = server.openai_url if provider == "openai" else server.anthropic_url
    lim = {"backoff_s": 0.01, "max_backoff_s": 5.0, "timeout_s": 5.0, "max_retries": 3, **limits}
    return JudgeConfig(
        provider=provider,  # type: ignore[arg-type]
        model="judge-test",
        base_url=url,
        api_key_env="JUDGE_KEY",
        price_input_per_mtok=2.0,
        price_output_per_mtok=10.0,
        limits=LimitsConfig(**lim),  # type: ignore[arg-type]
    )


async def test_openai_request_shape_and_score(server: JudgeServer) -> None:
    async with JudgeClient(cfg_for(server), env=ENV) as client:
        j = await client.judge("def add(a, b):\n", GOOD)
    assert j is not None
    assert j.score == pytest.approx(7 / 9)
    assert j.criteria == {"correctness": 8, "readability": 8, "efficiency": 8, "safety": 8}
    (req,) = server.requests
    assert req["api"] == "openai"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    body = req["body"]
    assert body["model"] == "judge-test"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["max_tokens"] == 256
    assert body["temperature"] == 0.0
    assert "def add(a, b):" in body["messages"][1]["content"]


async def test_anthropic_request_shape_tokens_and_cost(server: JudgeServer) -> None:
    async with JudgeClient(cfg_for(server, "anthropic"), env=ENV) as client:
        j = await client.judge("def add(a, b):\n", BAD)
    assert j is not None
    assert j.score == 0.0
    (req,) = server.requests
    assert req["headers"]["x-api-key"] == "sk-test"
    assert req["headers"]["anthropic-version"] == "2023-06-01"
    assert "correctness" in req["body"]["system"]
    assert req["body"]["messages"][0]["role"] == "user"
    m = client.meter.drain()
    assert m["judge/tokens"] == 120  # 90 in + 30 out
    assert m["judge/cost_usd"] == pytest.approx((90 * 2.0 + 30 * 10.0) / 1e6)
    assert m["judge/requests"] == 1


async def test_429_waits_for_retry_after(server: JudgeServer) -> None:
    server.script.extend(["429:1"])
    async with JudgeClient(cfg_for(server), env=ENV) as client:
        j = await client.judge("p", GOOD)
    assert j is not None
    assert len(server.requests) == 2
    gap = server.request_times[1] - server.request_times[0]
    assert gap >= 0.9, f"retried after {gap:.2f} s despite Retry-After: 1"
    assert client.meter.drain()["judge/retries"] == 1


async def test_5xx_retried_then_given_up(server: JudgeServer) -> None:
    server.script.extend(["500", "529"])
    async with JudgeClient(cfg_for(server), env=ENV) as client:
        assert await client.judge("p", GOOD) is not None
        assert len(server.requests) == 3
        server.script.extend(["500"] * 4)  # max_retries=3: four tries, all 500
        assert await client.judge("p", BAD) is None
        m = client.meter.drain()
    assert len(server.requests) == 7
    assert m["judge/failures"] == 1
    assert "HTTP 500" in (client.last_error or "")


async def test_client_errors_are_not_retried(server: JudgeServer) -> None:
    server.script.append("400")
    async with JudgeClient(cfg_for(server), env=ENV) as client:
        assert await client.judge("p", GOOD) is None
    assert len(server.requests) == 1


async def test_wrong_key_fails_without_retry(server: JudgeServer) -> None:
    async with JudgeClient(cfg_for(server), env={"JUDGE_KEY": "wrong"}) as client:
        assert await client.judge("p", GOOD) is None
    assert len(server.requests) == 1
    assert "401" in (client.last_error or "")


async def test_malformed_json_is_retried(server: JudgeServer) -> None:
    server.script.append("malformed")
    async with JudgeClient(cfg_for(server, "anthropic"), env=ENV) as client:
        assert await client.judge("p", GOOD) is not None
        server.script.extend(["malformed"] * 4)
        assert await client.judge("p", BAD) is None
        assert "not JSON" in (client.last_error or "")


async def test_unparseable_score_gives_none_and_is_not_cached(server: JudgeServer) -> None:
    server.script.append("unparseable")
    async with JudgeClient(cfg_for(server), env=ENV) as client:
        assert await client.judge("p", GOOD) is None
        assert await client.judge("p", GOOD) is not None  # asked again, not served from cache
        m = client.meter.drain()
    assert m["judge/unparseable"] == 1
    assert len(server.requests) == 2


async def test_slow_answer_times_out_and_retries(server: JudgeServer) -> None:
    server.script.append("slow:2")
    async with JudgeClient(cfg_for(server, timeout_s=0.3), env=ENV) as client:
        t0 = time.monotonic()
        assert await client.judge("p", GOOD) is not None
        assert time.monotonic() - t0 < 1.5
        server.script.extend(["slow:2"] * 4)
        assert await client.judge("p", BAD) is None
    assert "no answer within" in (client.last_error or "")


async def test_cache_keyed_on_model_rubric_prompt_completion(server: JudgeServer) -> None:
    cfg = cfg_for(server)
    async with JudgeClient(cfg, env=ENV) as client:
        a = await client.judge("p", GOOD)
        b = await client.judge("p", GOOD)
        await client.judge("q", GOOD)  # another prompt: a miss
        assert client.meter.drain()["judge/cache_hits"] == 1
    assert a == b
    assert len(server.requests) == 2
    edited = cfg.model_copy(update={"rubric": RubricConfig(instructions="Be kind.")})
    other_model = cfg.model_copy(update={"model": "judge-other"})
    for variant in (edited, other_model):
        async with JudgeClient(variant, env=ENV) as client:
            await client.judge("p", GOOD)
    assert len(server.requests) == 4


async def test_concurrency_is_bounded(server: JudgeServer) -> None:
    server.script.extend(["slow:0.3"] * 6)
    cfg = cfg_for(server).model_copy(update={"cache_entries": 0})
    cfg.limits.max_concurrency = 2
    async with JudgeClient(cfg, env=ENV) as client:
        got = await asyncio.gather(*(client.judge("p", f"    return {i}\n") for i in range(6)))
    assert all(g is not None for g in got)
    assert server.max_in_flight == 2


async def test_group_mode_scores_in_order(server: JudgeServer) -> None:
    cfg = cfg_for(server).model_copy(update={"mode": "group"})
    async with JudgeClient(cfg, env=ENV) as client:
        got = await client.judge_group("p", [BAD, GOOD, BAD])
    assert [g.score if g else None for g in got] == [0.0, pytest.approx(7 / 9), 0.0]
    assert len(server.requests) == 1
    assert '"scores"' in server.requests[0]["body"]["messages"][0]["content"]


def test_missing_key_variable_is_a_clear_error(server: JudgeServer) -> None:
    with pytest.raises(JudgeConfigError, match="JUDGE_KEY is not set"):
        JudgeClient(cfg_for(server), env={})


def test_public_apis_default_to_their_key_variables() -> None:
    assert JudgeConfig(provider="openai").resolved_key_env() == "OPENAI_API_KEY"
    assert JudgeConfig(provider="anthropic").resolved_key_env() == "ANTHROPIC_API_KEY"
    local = JudgeConfig(provider="openai", base_url="http://127.0.0.1:11434/v1")
    assert local.resolved_key_env() is None


def test_background_judge_meets_its_batch_deadline(server: JudgeServer) -> None:
    server.script.extend(["slow:5", "ok", "slow:5"])
    cfg = cfg_for(server, batch_timeout_s=0.5, timeout_s=10.0)
    cfg.limits.max_concurrency = 3
    judge = BackgroundJudge(cfg, env=ENV)
    try:
        t0 = time.monotonic()
        items = [JudgeItem("p", c) for c in ("    return 1\n", GOOD, "    return 3\n")]
        got = judge.submit(items).result(timeout=5)
        elapsed = time.monotonic() - t0
        m = judge.metrics()
    finally:
        judge.close()
    assert elapsed < 2.0
    assert sum(g is not None for g in got) == 1
    assert m["judge/deadline_missed"] == 1
