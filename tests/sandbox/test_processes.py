"""Time and process properties: the whole process tree dies at the deadline."""

from __future__ import annotations

import os
import time

from rlaif_tui.reward import Executor
from tests.sandbox.conftest import TIMEOUT_S, assert_no_survivors, io_expect, needs_root, run_one

ONE_TEST = {"kind": "asserts", "asserts": ["assert f() == 1"]}


def test_busy_loop_times_out_at_the_wall_deadline(executor: Executor) -> None:
    o = run_one(executor, "def f():\n    while True:\n        pass\n", ONE_TEST)
    assert o.status == "timeout"
    assert not o.passed
    assert TIMEOUT_S <= o.duration_s < TIMEOUT_S + 2


def test_sleeping_program_times_out_without_using_cpu(executor: Executor) -> None:
    o = run_one(executor, "import time\ndef f():\n    time.sleep(60)\n", ONE_TEST)
    assert o.status == "timeout"
    assert o.cpu_s < 1.0


@needs_root
def test_fork_bomb_is_contained_and_leaves_nothing_behind(executor: Executor) -> None:
    code = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    o = run_one(executor, code, ONE_TEST)
    assert o.status == "timeout"
    assert_no_survivors(executor)
    assert run_one(executor, "def f():\n    return 1\n", ONE_TEST).passed


@needs_root
def test_thread_bomb_hits_the_process_cap(executor: Executor) -> None:
    code = (
        "import threading, time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "        n += 1\n"
        "except RuntimeError:\n"
        "    pass\n"
        "def f():\n    return n\n"
    )
    o = run_one(executor, code, {"kind": "asserts", "asserts": ["assert f() < 64"]})
    assert o.passed, o  # the cap stopped it below 64 threads
    assert_no_survivors(executor)


@needs_root
def test_setsid_daemon_does_not_survive_its_job(executor: Executor) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        while True:\n"
        "            time.sleep(0.05)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "def f():\n    return 1\n"
    )
    o = run_one(executor, code, ONE_TEST)
    assert o.passed, o
    assert_no_survivors(executor)


@needs_root
def test_sigterm_ignoring_children_die_with_the_job(executor: Executor) -> None:
    code = (
        "import os, signal, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "        while True:\n"
        "            pass\n"
        "def f():\n    time.sleep(60)\n"
    )
    o = run_one(executor, code, ONE_TEST)
    assert o.status == "timeout"
    assert_no_survivors(executor)


def test_killing_parent_and_everyone_reaches_nobody_outside(executor: Executor) -> None:
    # Inside its PID namespace the job is pid 1 and its "parent" is pid 0: these signals can
    # reach only the job itself. Whatever they do to it, this process (the trainer), the lanes
    # and later jobs carry on.
    attacks = ("os.kill(os.getppid(), 9)", "os.kill(-1, 9)", "os.killpg(0, 9)", "os.kill(1, 9)")
    for attack in attacks:
        code = f"import os\ndef f():\n    {attack}\n    return 1\n"
        run_one(executor, code, ONE_TEST)
        assert run_one(executor, "def f():\n    return 1\n", ONE_TEST).passed


def test_cannot_see_other_processes_in_proc(executor: Executor) -> None:
    # The lane's mount namespace covers /proc with an empty tmpfs: no process is there at all.
    program = (
        "import os\n"
        "try:\n"
        "    os.listdir('/proc/1/fd')\n"
        "    print('visible')\n"
        "except PermissionError:\n"
        "    print('DENIED')\n"
        "except FileNotFoundError:\n"
        "    print('absent')\n"
    )
    assert io_expect(executor, program, "absent").passed


def test_child_is_pid_one_of_its_own_namespace(executor: Executor) -> None:
    o = io_expect(executor, "import os\nprint(os.getpid(), os.getppid())", "1 0")
    assert o.passed, o


def test_environment_is_scrubbed() -> None:
    os.environ["RLAIF_TEST_SECRET"] = "hunter2"
    try:
        with Executor(workers=1, timeout_s=TIMEOUT_S) as ex:
            o = io_expect(ex, "import os\nprint(dict(os.environ))", "{}")
    finally:
        del os.environ["RLAIF_TEST_SECRET"]
    assert o.passed, o


def test_lanes_recover_after_a_job_kills_its_own_runtime(executor: Executor) -> None:
    t0 = time.monotonic()
    o = run_one(executor, "import os\nos.close(3)\ndef f():\n    return 1\n", ONE_TEST)
    assert not o.passed
    assert time.monotonic() - t0 < TIMEOUT_S + 5
    assert run_one(executor, "def f():\n    return 1\n", ONE_TEST).passed


def test_a_dataset_test_that_never_ends_is_ended_by_the_harness_alarm() -> None:
    # The harness runs trusted test code; if that loops (not the candidate), the harness's own
    # alarm ends the job as a timeout soon after the deadline, and the lane goes on.
    with Executor(workers=1, timeout_s=1) as ex:
        check = "def check(candidate):\n    while True:\n        pass\n"
        o = run_one(
            ex, "def f():\n    return 1\n", {"kind": "check", "check": check, "entry_point": "f"}
        )
        assert o.status == "timeout"
        assert "lane_restarted" not in o.flags, o
        assert run_one(ex, "def f():\n    return 1\n", ONE_TEST).passed
