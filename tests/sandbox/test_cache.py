"""The reward cache inside the executor: identical jobs under identical limits reuse settled
outcomes, also across a save/load through a run dir; unsettled ones are never stored."""

from __future__ import annotations

from pathlib import Path

from rlaif_tui._reward import RewardCache
from rlaif_tui.reward import Executor

ONE = {"kind": "asserts", "asserts": ["assert f() == 1"]}


def job(id: str, body: str) -> dict[str, object]:
    return {"id": id, "code": f"def f():\n{body}\n", "tests": ONE}


def test_identical_jobs_reuse_a_settled_outcome(tmp_path: Path) -> None:
    cache = RewardCache()
    with Executor(workers=1, timeout_s=2, cache=cache) as ex:
        first = ex.run([job("a", "    return 1"), job("b", "    return 2")])
        again = ex.run([job("a2", "    return 1"), job("b2", "    return 2")])
    assert [(o.id, o.status, o.cached) for o in first] == [
        ("a", "passed", False),
        ("b", "failed", False),
    ]
    assert [(o.id, o.status, o.cached) for o in again] == [
        ("a2", "passed", True),
        ("b2", "failed", True),
    ]
    assert again[1].tests_passed == first[1].tests_passed
    stats = cache.stats()
    assert (stats["hits"], stats["inserts"]) == (2, 2)


def test_timeouts_and_runs_near_the_limit_are_not_cached() -> None:
    cache = RewardCache()
    slow = job("slow", "    import time\n    time.sleep(1.2)\n    return 1")
    spin = job("spin", "    while True:\n        pass")
    with Executor(workers=2, timeout_s=2, cache=cache) as ex:
        first = ex.run([slow, spin])
        again = ex.run([slow, spin])
    assert [o.status for o in first] == ["passed", "timeout"]
    assert not any(o.cached for o in again)
    assert len(cache) == 0


def test_other_limits_do_not_share_outcomes() -> None:
    cache = RewardCache()
    j = job("a", "    return 1")
    with Executor(workers=1, timeout_s=2, cache=cache) as ex:
        ex.run([j])
    with Executor(workers=1, timeout_s=3, cache=cache) as ex:
        (o,) = ex.run([j])
    assert not o.cached
    assert len(cache) == 2


def test_a_resumed_run_reuses_the_persisted_cache(tmp_path: Path) -> None:
    path = tmp_path / "reward_cache.bin"
    cache = RewardCache()
    with Executor(workers=1, timeout_s=2, cache=cache) as ex:
        ex.run([job("a", "    return 1")])
    cache.save(path)
    resumed = RewardCache()
    assert resumed.load(path) == 1
    with Executor(workers=1, timeout_s=2, cache=resumed) as ex:
        (o,) = ex.run([job("a", "    return 1")])
    assert o.cached
    assert o.passed
