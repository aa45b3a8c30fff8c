"""The Ray execution backend against a local Ray head on 127.0.0.1: the same outcomes as the
local sandbox, in input order, sync and async, and a dead worker's jobs as sandbox errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui._reward import RewardCache
from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward import Executor, Outcome
from rlaif_tui.reward.factory import make_executor
from rlaif_tui.reward.ray_executor import RayExecutor

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO / "data" / "examples" / "sandbox_jobs.jsonl"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_head() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'rlaif-tui[ray]'")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",  # loopback only
        object_store_memory=100 * 1024 * 1024,
        log_to_driver=False,
        namespace="rlaif-tui-tests",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _jobs() -> list[dict[str, Any]]:
    jobs = [json.loads(line) for line in JOBS.read_text().splitlines() if line.strip()]
    jobs.append({"id": "not-a-job", "code": 3, "tests": {}})  # invalid: answered locally
    return jobs


def _summary(outcomes: list[Outcome]) -> list[tuple[str, str, bool, int, int]]:
    return [(o.id, o.status, o.passed, o.tests_passed, o.tests_total) for o in outcomes]


@pytest.fixture(scope="module")
def local_outcomes() -> list[Outcome]:
    with Executor(workers=2, timeout_s=5.0, isolation_floor="none") as ex:
        return ex.run(_jobs())


def test_ray_batch_matches_the_local_executor_in_input_order(
    ray_head: Any, local_outcomes: list[Outcome]
) -> None:
    cfg = ExecutionRewardConfig(
        backend="ray", ray_actors=2, workers=1, timeout_s=5.0, isolation_floor="none"
    )
    ex = make_executor(cfg, RewardCache())
    assert isinstance(ex, RayExecutor)
    try:
        ex.chunk_size = 3  # several chunks per actor, so order has to be restored
        got = ex.run(_jobs())
        assert [o.id for o in got] == [j["id"] for j in _jobs()]
        assert _summary(got) == _summary(local_outcomes)
        assert {o.status for o in got} >= {"passed", "failed", "timeout", "invalid"}
        assert ex.isolation in ("full", "partial", "minimal", "none")
    finally:
        ex.close()


async def test_ray_async_run_returns_the_same_outcomes(
    ray_head: Any, local_outcomes: list[Outcome]
) -> None:
    with RayExecutor(
        workers=1, timeout_s=5.0, actors=1, cpus_per_actor=0.5, isolation_floor="none"
    ) as ex:
        got = await ex.run_async(_jobs())
    assert _summary(got) == _summary(local_outcomes)


def test_a_dead_ray_worker_turns_its_jobs_into_sandbox_errors(ray_head: Any) -> None:
    jobs = _jobs()[:4]
    with RayExecutor(
        workers=1,
        timeout_s=5.0,
        actors=2,
        cpus_per_actor=0.5,
        chunk_size=2,
        isolation_floor="none",
    ) as ex:
        ray_head.kill(ex._actors[1], no_restart=True)
        got = ex.run(jobs)
    assert [o.id for o in got] == [j["id"] for j in jobs]
    assert [o.status for o in got[2:]] == ["sandbox_error", "sandbox_error"]
    assert all("ray worker failed" in o.message for o in got[2:])
    assert all(o.status != "sandbox_error" for o in got[:2])
