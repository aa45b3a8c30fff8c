"""The executor's API: input order, the GIL released, background and async batches, invalid
jobs, limits and the isolation floor."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from rlaif_tui import _reward
from rlaif_tui.reward import Executor, Job, JobError, Outcome
from tests.sandbox.conftest import run_one

SLEEP = "import time\ndef f():\n    time.sleep({})\n    return 1\n"


def sleeper(i: int, seconds: float) -> dict[str, object]:
    return {
        "id": f"j{i}",
        "code": SLEEP.format(seconds),
        "tests": {"kind": "asserts", "asserts": ["assert f() == 1"]},
    }


def test_outcomes_come_back_in_input_order(executor: Executor) -> None:
    jobs = [sleeper(i, s) for i, s in enumerate([0.3, 0.0, 0.2, 0.0, 0.1, 0.0])]
    outcomes = executor.run(jobs)
    assert [o.id for o in outcomes] == [j["id"] for j in jobs]
    assert all(o.passed for o in outcomes)


def test_identical_jobs_run_once_but_keep_their_ids(executor: Executor) -> None:
    jobs = [sleeper(i, 0.5) for i in range(6)]
    t0 = time.monotonic()
    outcomes = executor.run(jobs)
    assert time.monotonic() - t0 < 1.5  # six 0.5 s jobs on two lanes would take 1.5 s
    assert [o.id for o in outcomes] == [f"j{i}" for i in range(6)]


def test_the_gil_is_released_while_jobs_run(executor: Executor) -> None:
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks
        executor.run([sleeper(0, 0.5)])
        during = ticks - before
    finally:
        stop.set()
        t.join()
    assert during > 50, f"the other thread ran only {during} times in 0.5 s"


def test_submit_returns_a_future(executor: Executor) -> None:
    fut = executor.submit([sleeper(1, 0.0), sleeper(2, 0.1)])
    outcomes = fut.result(timeout=30)
    assert [o.id for o in outcomes] == ["j1", "j2"]


def test_run_async_overlaps_with_other_work(executor: Executor) -> None:
    async def main() -> tuple[list[Outcome], int]:
        task = asyncio.ensure_future(executor.run_async([sleeper(3, 0.3)]))
        steps = 0
        while not task.done():
            steps += 1
            await asyncio.sleep(0.01)
        return await task, steps

    outcomes, steps = asyncio.run(main())
    assert outcomes[0].passed
    assert steps >= 5


def test_invalid_jobs_become_invalid_outcomes_in_place(executor: Executor) -> None:
    jobs = [
        sleeper(0, 0.0),
        {"id": "bad", "code": "x", "tests": {"kind": "nope"}},
        {"code": "x"},
        sleeper(3, 0.0),
    ]
    outcomes = executor.run(jobs)
    assert [o.status for o in outcomes] == ["passed", "invalid", "invalid", "passed"]
    assert "tests.kind" in outcomes[1].message
    assert "missing field" in outcomes[2].message


def test_test_code_that_does_not_parse_is_invalid(executor: Executor) -> None:
    o = run_one(executor, "x = 1", {"kind": "asserts", "asserts": ["assert x =="]})
    assert o.status == "invalid"
    assert "does not parse" in o.message


def test_job_validation_names_the_field() -> None:
    with pytest.raises(JobError, match=r"tests\.cases\[1\]"):
        Job("a", "", {"kind": "io", "cases": [{"stdin": "", "stdout": ""}, {"stdin": 1}]})
    with pytest.raises(JobError, match="entry_point"):
        Job("a", "", {"kind": "check", "check": "def check(candidate): pass", "entry_point": "1x"})


def test_every_outcome_names_its_isolation(executor: Executor) -> None:
    o = run_one(
        executor, "def f():\n    return 1\n", {"kind": "asserts", "asserts": ["assert f() == 1"]}
    )
    assert o.isolation == executor.isolation
    keys = set(o.to_dict())
    assert {
        "id",
        "status",
        "passed",
        "tests_passed",
        "tests_total",
        "message",
        "failure",
        "duration_s",
        "cpu_s",
        "peak_memory_mb",
        "stdout_tail",
        "stderr_tail",
        "cached",
        "isolation",
        "flags",
    } == keys


def test_bad_limits_and_floors_raise_clear_errors() -> None:
    with pytest.raises(_reward.LimitsError, match="timeout_s"):
        Executor(workers=1, timeout_s=0)
    with pytest.raises(_reward.LimitsError, match="isolation_floor"):
        Executor(workers=1, isolation_floor="maximum")
    with pytest.raises(_reward.LimitsError, match="uid_base"):
        Executor(workers=1, uid_base=0)


def test_closed_executor_refuses_work() -> None:
    ex = Executor(workers=1)
    ex.close()
    with pytest.raises(_reward.ExecutorClosedError):
        ex.run([sleeper(0, 0.0)])


def test_a_private_umask_in_the_caller_does_not_lock_the_lanes_out() -> None:
    """The daemon runs under umask 077 (a private run dir); the sandbox's own directories must
    still be traversable by the lanes' unprivileged uids, so a correct program passes."""
    old = os.umask(0o077)
    try:
        with Executor(workers=1) as ex:
            [outcome] = ex.run([sleeper(0, 0.0)])
    finally:
        os.umask(old)
    assert outcome.status == "passed", outcome.message
