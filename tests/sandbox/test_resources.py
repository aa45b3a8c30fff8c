"""Resource properties: memory, file size, disk, open files and output are capped, and a flood
cannot grow the supervisor's memory."""

from __future__ import annotations

import os
import resource

from rlaif_tui.reward import Executor
from tests.sandbox.conftest import (
    TIMEOUT_S,
    UID_BASE,
    assert_no_survivors,
    io_expect,
    run_one,
)


def test_memory_bomb_is_reported_as_memory(executor: Executor) -> None:
    o = run_one(
        executor,
        "def f():\n    x = bytearray(2 * 1024 ** 3)\n    return len(x)\n",
        {"kind": "asserts", "asserts": ["assert f() > 0"]},
    )
    assert o.status == "memory", o
    assert o.peak_memory_mb < 300


def test_growing_list_hits_the_memory_cap(executor: Executor) -> None:
    o = run_one(
        executor,
        "def f():\n    x = []\n    while True:\n        x.append(' ' * 10**6)\n",
        {"kind": "asserts", "asserts": ["assert f()"]},
    )
    assert o.status == "memory", o


def test_a_huge_file_stops_at_the_file_size_cap(executor: Executor) -> None:
    program = (
        "import errno\n"
        "written = 0\n"
        "try:\n"
        "    with open('big', 'wb') as f:\n"
        "        for _ in range(200):\n"
        "            f.write(b'x' * (1 << 20))\n"
        "            f.flush()\n"
        "            written += 1\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], written <= 16)\n"
    )
    o = io_expect(executor, program, "EFBIG True")
    assert o.passed, o


def test_many_files_stop_at_the_disk_cap(executor: Executor) -> None:
    program = (
        "import errno\n"
        "total = 0\n"
        "try:\n"
        "    for i in range(100):\n"
        "        with open(f'f{i}', 'wb') as f:\n"
        "            for _ in range(15):\n"
        "                f.write(b'x' * (1 << 20))\n"
        "                f.flush()\n"
        "                total += 1\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], total <= 64)\n"
    )
    o = io_expect(executor, program, "ENOSPC True")
    assert o.passed, o


def test_scratch_is_empty_for_the_next_job(executor: Executor) -> None:
    io_expect(executor, "open('leftover', 'w').write('x')\nprint('ok')", "ok")
    for _ in range(4):  # whichever lane runs it
        assert io_expect(executor, "import os\nprint(os.listdir('.'))", "[]").passed


def test_opening_many_files_hits_the_descriptor_cap(executor: Executor) -> None:
    program = (
        "import errno\n"
        "fs = []\n"
        "try:\n"
        "    for _ in range(10000):\n"
        "        fs.append(open('/dev/null'))\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], len(fs) < 64)\n"
    )
    assert io_expect(executor, program, "EMFILE True").passed


def test_stdout_flood_is_cut_off(executor: Executor) -> None:
    o = run_one(
        executor,
        "def f():\n    while True:\n        print('x' * 4096)\n",
        {"kind": "asserts", "asserts": ["assert f()"]},
    )
    assert o.status == "output_limit", o
    assert 0 < len(o.stdout_tail) <= 4096
    assert o.duration_s < TIMEOUT_S


def test_a_flood_does_not_grow_the_supervisor() -> None:
    # Output cap far above the flood, so the lane keeps draining 256 MiB through its buffers.
    with Executor(workers=1, timeout_s=20, output_bytes=1 << 30) as ex:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        o = run_one(
            ex,
            "import os\nchunk = b'y' * (1 << 20)\nfor _ in range(256):\n    os.write(1, chunk)\n"
            "def f():\n    return 1\n",
            {"kind": "asserts", "asserts": ["assert f() == 1"]},
        )
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert o.passed, o
    assert o.stdout_tail == "y" * 4096
    assert (after - before) < 32 * 1024, f"supervisor grew by {(after - before) // 1024} MiB"


def test_forked_memory_hogs_share_one_lane_budget(executor: Executor) -> None:
    # Twenty processes of 150 MiB each stay under the per-process cap but add up to 3 GiB; the
    # lane's cgroup (where writable) bounds them together, and they all die with the job.
    code = (
        "import os, time\n"
        "for _ in range(20):\n"
        "    if os.fork() == 0:\n"
        "        x = b'x' * (150 << 20)\n"
        "        time.sleep(30)\n"
        "def f():\n    time.sleep(30)\n"
    )
    o = run_one(executor, code, {"kind": "asserts", "asserts": ["assert f() == 1"]})
    assert o.status in ("timeout", "memory"), o
    if os.geteuid() == 0:
        assert_no_survivors(executor)
    assert run_one(
        executor, "def f():\n    return 1\n", {"kind": "asserts", "asserts": ["assert f() == 1"]}
    ).passed


def test_an_io_program_flooding_stdout_hits_the_output_cap() -> None:
    # A cap of 64 KiB and a wall-clock budget of 60 s: the flood must end in `output_limit`
    # however slowly a loaded machine lets it write (with the shared 1 MiB / 3 s executor a
    # busy machine could reach the timeout first, which is a different property).
    with Executor(
        workers=1, timeout_s=60.0, output_bytes=64 * 1024, uid_base=UID_BASE + 32
    ) as flood:
        o = io_expect(flood, "while True:\n    print('x' * 1000)\n", "x")
    assert o.status == "output_limit", o
    assert o.stdout_tail.endswith("x" * 100)
    assert o.duration_s < 60.0


def test_an_io_programs_output_tail_is_reported(executor: Executor) -> None:
    o = io_expect(executor, "print('hello')\nprint('world')\n", "hello world")
    assert not o.passed  # two lines are not one: whitespace inside lines only is normalised
    assert o.stdout_tail == "hello\nworld\n"
