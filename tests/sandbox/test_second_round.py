"""Second-round attacks (issue 13), one group per category: the trusted harness acting on what
the candidate controls, a verdict turned into "not graded", per-job state leaking within a lane,
and the child's reach into the host."""

from __future__ import annotations

import os
import socket
import sysconfig
import tempfile
from pathlib import Path

import pytest

from rlaif_tui._reward import RewardCache
from rlaif_tui.config.train import ExecutionRewardConfig
from rlaif_tui.reward import Executor, Outcome
from rlaif_tui.scoring.sources.execution import outcome_reward
from tests.sandbox.conftest import TIMEOUT_S, UID_BASE, io_expect, needs_root, run_one

ONE_TEST = {"kind": "asserts", "asserts": ["assert f(1) == 2"]}
CHECK = {
    "kind": "check",
    "check": "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(2) == 3\n",
    "entry_point": "f",
}
CANDIDATE_STATUSES = {"failed", "error", "timeout", "memory", "output_limit", "killed"}
# Penalties on, as a mixed reward would use them: a dodge must not beat an honest failure.
PENALTIES = ExecutionRewardConfig(mode="fraction", compile_error=-1.0, runtime_error=-0.6)


def honest_failure(ex: Executor, tests: dict) -> Outcome:
    return run_one(ex, "def f(x):\n    return x\n", tests)


def assert_candidates_failure(o: Outcome, honest: Outcome) -> None:
    assert o.status in CANDIDATE_STATUSES, o
    assert not o.passed
    for cfg in (PENALTIES, ExecutionRewardConfig()):
        got, fair = outcome_reward(o.to_dict(), cfg), outcome_reward(honest.to_dict(), cfg)
        assert got is not None, (o, cfg)
        assert fair is not None, (honest, cfg)
        assert got <= fair, (o, cfg)


# 1. The harness decides what to import from the test source only.


def test_a_function_named_like_a_stdlib_module_stays_the_candidates(executor: Executor) -> None:
    # `chunk` is a stdlib module name too: the test means the program's function.
    code = "def chunk(x):\n    return x + 1\n"
    o = run_one(executor, code, {"kind": "asserts", "asserts": ["assert chunk(1) == 2"]})
    assert o.passed, o


def test_a_candidate_name_bound_to_a_stdlib_main_is_not_imported_by_the_harness(
    executor: Executor,
) -> None:
    # Before: the harness asked the child what `f` was ("module:idlelib.idle") and imported
    # it, starting IDLE in the harness. Now `f` is not a module the test names: not imported.
    code = "import types\nf = types.ModuleType('idlelib.idle')\n"
    o = run_one(executor, code, ONE_TEST)
    assert o.status == "failed", o
    assert o.failure is not None, o
    assert o.failure["type"] == "NameError", o
    assert o.duration_s < TIMEOUT_S


def test_a_module_the_test_names_is_the_real_one_whatever_the_candidate_bound(
    executor: Executor,
) -> None:
    code = "import types\nmath = types.ModuleType('antigravity')\ndef f(x):\n    return x * x\n"
    tests = {"kind": "asserts", "asserts": ["assert math.isqrt(f(3)) == 3"]}
    o = run_one(executor, code, tests)
    assert o.passed, o


@needs_root
def test_test_code_runs_confined_in_the_harness(executor: Executor) -> None:
    # Trusted test code, but it shows what the harness process itself may do: no root, no
    # network, no socket, no write anywhere.
    target = Path(tempfile.gettempdir()) / f"rlaif-harness-probe-{os.getpid()}"
    probe = (
        "def probe():\n"
        "    import os, socket\n"
        "    out = [os.getuid() != 0]\n"
        "    for attempt in (lambda: socket.socket(socket.AF_INET),\n"
        "                    lambda: socket.socket(socket.AF_UNIX),\n"
        f"                    lambda: open({str(target)!r}, 'w'),\n"
        "                    lambda: open(os.path.expanduser('~/.bashrc'))):\n"
        "        try:\n"
        "            attempt()\n"
        "            out.append(False)\n"
        "        except OSError:\n"
        "            out.append(True)\n"
        "    return out\n"
    )
    tests = {"kind": "asserts", "setup": probe, "asserts": ["assert all(probe()), probe()"]}
    o = run_one(executor, "def f(x):\n    return x\n", tests)
    assert o.passed, o
    assert not target.exists()


def test_a_returned_lazy_range_that_a_test_expands_is_the_candidates_memory() -> None:
    with Executor(workers=1, timeout_s=TIMEOUT_S, memory_mb=256, uid_base=UID_BASE + 40) as ex:
        code = "def f(x):\n    return range(10**15)\n"
        tests = {"kind": "asserts", "asserts": ["assert list(f(1)) == [2]"]}
        o = run_one(ex, code, tests)
        assert o.status == "memory", o
        assert "harness_memory" in o.flags, o
        assert "lane_restarted" not in o.flags, o
        assert_candidates_failure(o, honest_failure(ex, tests))
        # The same lane, not restarted, grades the next program.
        assert run_one(ex, "def f(x):\n    return x + 1\n", ONE_TEST).passed


def test_a_test_looping_over_a_returned_value_is_the_candidates_timeout() -> None:
    with Executor(workers=1, timeout_s=1, uid_base=UID_BASE + 42) as ex:
        code = "def f(x):\n    return range(10**15)\n"
        check = "def check(candidate):\n    for i in candidate(1):\n        pass\n"
        o = run_one(ex, code, {"kind": "check", "check": check, "entry_point": "f"})
        assert o.status == "timeout", o
        assert "harness_timeout" in o.flags, o
        assert "lane_restarted" not in o.flags, o
        assert run_one(ex, "def f(x):\n    return x + 1\n", ONE_TEST).passed


def test_a_test_stuck_in_one_c_call_is_a_flagged_timeout_that_is_never_cached() -> None:
    # No signal interrupts one C call (a builtin sum over a huge range): the lane's grace ends
    # it by restarting its processes. Still the candidate's timeout, and never replayed.
    cache = RewardCache()
    with Executor(workers=1, timeout_s=1, cache=cache, uid_base=UID_BASE + 46) as ex:
        tests = {"kind": "asserts", "asserts": ["assert sum(range(f(1))) == 0"]}
        o = run_one(ex, "def f(x):\n    return 10**21\n", tests)
        assert o.status == "timeout", o
        assert "harness_timeout" in o.flags, o
        assert "lane_restarted" in o.flags, o
        assert cache.stats()["inserts"] == 0
        assert run_one(ex, "def f(x):\n    return x + 1\n", ONE_TEST).passed


# 2. Whatever the candidate does to its channel is its own failure.

CORRUPTIONS = {
    "garbage": "import os\nos.write(3, b'garbage garbage')\n",
    "wrong-frame": "import os, struct\nos.write(3, struct.pack('>I', 2) + b'[]')\n",
    "huge-frame": "import os, struct\nos.write(3, struct.pack('>I', 1 << 31))\n",
    "closed": "import os\nos.close(3)\n",
    "exit": "import os\nos._exit(0)\n",
}


@pytest.mark.parametrize("kind", ["asserts", "check"])
@pytest.mark.parametrize("attack", sorted(CORRUPTIONS))
def test_breaking_the_channel_at_import_is_the_candidates_failure(
    executor: Executor, kind: str, attack: str
) -> None:
    tests = ONE_TEST if kind == "asserts" else CHECK
    code = CORRUPTIONS[attack] + "def f(x):\n    return x + 1\n"
    o = run_one(executor, code, tests)
    assert_candidates_failure(o, honest_failure(executor, tests))
    if attack in ("garbage", "wrong-frame", "huge-frame"):
        assert "channel_corrupted" in o.flags, o


def test_breaking_the_channel_during_the_tests_keeps_only_what_passed_before(
    executor: Executor,
) -> None:
    code = (
        "import os\n"
        "calls = 0\n"
        "def f(x):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    if calls == 2:\n"
        "        os.write(3, b'\\xff' * 64)\n"
        "    return x + 1\n"
    )
    o = run_one(executor, code, CHECK)
    assert o.status == "failed", o
    assert o.tests_passed <= 1, o
    assert "channel_corrupted" in o.flags, o
    # No better than an honest program that passes the first test and fails the second.
    honest = run_one(executor, "def f(x):\n    return x + 1 if x == 1 else x\n", CHECK)
    assert honest.tests_passed == 1, honest
    assert_candidates_failure(o, honest)


# 3. Per-job state: a job cannot leave anything in its lane for the next one.


def test_an_attacker_cannot_break_the_next_job_of_its_lane() -> None:
    attack = (
        "import fcntl, os\n"
        "for fd in (1, 2):\n"
        "    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)\n"
        "    fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ: the smallest pipe\n"
        "def f(x):\n"
        "    return x + 1\n"
    )
    # A correct program that relies on ordinary stdout: blocking, a default-sized pipe.
    victim = (
        "import fcntl, os\n"
        "def f(x):\n"
        "    flags = fcntl.fcntl(1, fcntl.F_GETFL)\n"
        "    size = fcntl.fcntl(1, 1032)  # F_GETPIPE_SZ\n"
        "    written = os.write(1, b'y' * 100_000)\n"
        "    clean = not flags & os.O_NONBLOCK and size >= 65536 and written == 100_000\n"
        "    return x + 1 if clean else x\n"
    )
    with Executor(workers=1, timeout_s=TIMEOUT_S, uid_base=UID_BASE + 44) as ex:
        assert run_one(ex, attack, ONE_TEST).passed
        for _ in range(3):
            o = run_one(ex, victim, ONE_TEST)
            assert o.passed, o


# 4. The child's reach into the host.


@pytest.fixture
def closed_listener() -> tuple[str, socket.socket]:
    """A 0777 unix socket listening inside a 0700 directory owned by this user."""
    d = tempfile.mkdtemp(prefix="rlaif-closed-")
    os.chmod(d, 0o700)
    path = os.path.join(d, "sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen()
    server.settimeout(0.3)
    yield path, server
    server.close()
    os.unlink(path)
    os.rmdir(d)


def test_a_unix_socket_in_a_closed_directory_is_out_of_reach(
    executor: Executor, closed_listener: tuple[str, socket.socket]
) -> None:
    path, server = closed_listener
    program = (
        "import os, socket\n"
        "out = []\n"
        "for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):\n"
        "    try:\n"
        "        s = socket.socket(socket.AF_UNIX, kind)\n"
        f"        s.connect({path!r})\n"
        "        out.append('connected')\n"
        "    except OSError:\n"
        "        out.append('refused')\n"
        "try:\n"
        "    a, b = socket.socketpair()\n"
        f"    a.connect({path!r})\n"
        "    out.append('connected')\n"
        "except OSError:\n"
        "    out.append('refused')\n"
        "try:\n"
        f"    os.stat({path!r})\n"
        "    out.append('seen')\n"
        "except OSError:\n"
        "    out.append('unseen')\n"
        "print(' '.join(out))\n"
    )
    o = io_expect(executor, program, "refused refused refused unseen")
    assert o.passed, o
    with pytest.raises(TimeoutError):
        server.accept()


def test_the_hosts_process_ids_are_not_listed(executor: Executor) -> None:
    me = os.getpid()
    program = (
        "import os\n"
        "try:\n"
        "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "except OSError:\n"
        "    pids = []\n"
        f"print(len(pids), os.path.exists('/proc/{me}'), os.path.exists('/proc/self'))\n"
    )
    o = io_expect(executor, program, "0 False False")
    assert o.passed, o


def test_no_site_packages_on_the_path_or_readable(executor: Executor) -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    program = (
        "import os, sys\n"
        "on_path = [p for p in sys.path if 'packages' in p]\n"
        "try:\n"
        "    import numpy\n"
        "    imported = 'imported'\n"
        "except ImportError:\n"
        "    imported = 'absent'\n"
        "try:\n"
        f"    listed = len(os.listdir({os.path.join(stdlib, 'site-packages')!r}))\n"
        "except OSError:\n"
        "    listed = 0\n"
        "print(len(on_path), imported, listed)\n"
    )
    o = io_expect(executor, program, "0 absent 0")
    assert o.passed, o


@needs_root
def test_children_keep_no_capability(executor: Executor) -> None:
    # CAP_DAC_READ_SEARCH would let the child traverse 0700 directories (the stdlib under a
    # 0700 /root is bind-mounted into the lane's view instead). capget via ctypes: all zero.
    program = (
        "import ctypes, ctypes.util\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)\n"
        "data = (ctypes.c_uint32 * 6)()\n"
        "print(libc.capget(hdr, data), sum(data))\n"
    )
    o = io_expect(executor, program, "0 0")
    assert o.passed, o
