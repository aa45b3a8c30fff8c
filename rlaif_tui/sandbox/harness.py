"""The trusted harness: runs each job's tests in this process, with the candidate reached only
through proxies into its sandboxed child (see `session`). It holds the tests and expected values;
the child never does.

Protocol with the lane: length-prefixed JSON frames on fd 0 (first `{"uid", "memory_mb"}`,
answered with `{"ok", "confined"}` once the harness confined itself; then per job `{"seq",
"timeout", "output_bytes", "job"}` in, a verdict out); the zygote passes each job's child socket
on fd 3.

What the harness may do, and what it may not (also in docs/architecture.md):
- It imports only modules the *test source* names (see `instrument.test_modules`); every name
  of the candidate is a proxy into the child or a decoded builtin value.
- It runs as its own unprivileged uid, in an empty network namespace, cannot create sockets,
  reads only the standard library and this package (Landlock), writes nothing, and has an
  address-space limit of its own: a value the candidate returned that explodes inside a test
  (a lazy range expanded, a huge number) ends as that job's `memory` (flag `harness_memory`),
  a test that loops on one ends as `timeout` (flag `harness_timeout`).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
from typing import Any

from rlaif_tui.sandbox import frames
from rlaif_tui.sandbox.runners import RUNNERS, InvalidTests, Verdict
from rlaif_tui.sandbox.session import Session

# Modules dataset tests commonly import, loaded before the first job.
PRELOAD = [
    "math",
    "random",
    "string",
    "re",
    "collections",
    "itertools",
    "functools",
    "fractions",
    "decimal",
]


def take_child(link: socket.socket, seq: int) -> socket.socket:
    """The child socket the zygote passed for job `seq` (older, abandoned ones are closed)."""
    while True:
        data, fds, _, _ = socket.recv_fds(link, 64, 4)
        if not data:
            os._exit(0)
        mine = data.strip() == str(seq).encode() and len(fds) == 1
        if mine:
            return socket.socket(fileno=fds[0])
        for fd in fds:
            os.close(fd)


class HarnessTimeout(BaseException):
    """The job's time is up while test code still runs here (e.g. on a value the candidate
    returned): a BaseException, so no test's `except Exception` swallows it."""


def _alarm(signum: int, frame: Any) -> None:
    raise HarnessTimeout


# Past the job's deadline the lane kills the child; this much later the harness gives up on
# test code still running, well before the lane's grace (3 s) ends and it restarts the lane.
ALARM_AFTER_S = 1.0


def run_job(msg: dict[str, Any], sock: socket.socket) -> Verdict:
    job = msg["job"]
    limit = int(msg["output_bytes"])
    try:
        tests = job["tests"]
        runner = RUNNERS[tests["kind"]]
        if type(job.get("code")) is not str:
            raise InvalidTests("code must be a string")
    except (InvalidTests, KeyError, TypeError) as exc:
        return {"status": "invalid", "message": f"invalid job: {exc}"}
    session = Session(sock, frame_limit=4 * limit + (1 << 20))
    if not session.wait_ready():
        return {
            "status": "sandbox_error",
            "message": "the sandbox child died before it was ready (hardening failed?)",
        }
    signal.setitimer(signal.ITIMER_REAL, float(msg["timeout"]) + ALARM_AFTER_S)
    try:
        verdict = runner(session, job, limit)
    except InvalidTests as exc:
        return {"status": "invalid", "message": f"invalid job: {exc}"}
    except MemoryError:
        verdict = _exploded("memory", "harness_memory", "exceeded the harness's memory")
    except HarnessTimeout:
        verdict = _exploded("timeout", "harness_timeout", "exceeded the time limit")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    verdict["flags"] = sorted(set(verdict.get("flags", [])) | session.flags)
    verdict["child_died"] = session.dead
    if session.memory_error and verdict["status"] != "passed":
        verdict["status"] = "memory"
    return verdict


def _exploded(status: str, flag: str, what: str) -> Verdict:
    """A test ran out of memory or time here, on what the candidate returned: its failure."""
    return {
        "status": status,
        "tests_passed": 0,
        "tests_total": 0,
        "message": f"a test {what} on the program's result",
        "failure": {
            "test": -1,
            "type": "MemoryError" if status == "memory" else "Timeout",
            "message": what,
            "line": None,
        },
        "flags": [flag],
    }


def read_paths() -> list[str]:
    """What test code may read: the stdlib (with lib-dynload), this package, system libraries."""
    from rlaif_tui.sandbox.zygote import read_paths as child_paths

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [*child_paths(), package]


def confine(cfg: dict[str, Any]) -> dict[str, Any]:
    """Limit and confine this process for the rest of its life (see the module docstring)."""
    from rlaif_tui import _reward

    # Room for the largest value a test may build from a result: the job's own memory cap on
    # top of what the harness already maps.
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    cap = mapped + (int(cfg["memory_mb"]) << 20)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cfg = {**cfg, "read_paths": read_paths()}
    held: dict[str, Any] = json.loads(_reward._harness_confine(json.dumps(cfg)))
    return held


def main() -> None:
    lane = socket.socket(fileno=0)
    link = socket.socket(fileno=3)
    # Nothing third-party: test code imports the standard library only.
    sys.path[:] = [p for p in sys.path if "-packages" not in p]
    try:
        cfg = frames.recv(lane)
        for name in PRELOAD:
            __import__(name)
        import rlaif_tui.sandbox.codec  # noqa: F401  (before Landlock, like every import here)

        confined = confine(cfg)
        signal.signal(signal.SIGALRM, _alarm)
    except Exception as exc:
        frames.send(lane, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
        os._exit(1)
    frames.send(lane, {"ok": True, "confined": confined})
    while True:
        try:
            msg = frames.recv(lane)
        except (frames.FrameError, OSError):
            os._exit(0)
        seq = msg["seq"]
        sock = take_child(link, seq)
        try:
            verdict = run_job(msg, sock)
        except MemoryError:
            verdict = _exploded("memory", "harness_memory", "exceeded the harness's memory")
        except HarnessTimeout:
            verdict = _exploded("timeout", "harness_timeout", "exceeded the time limit")
        except Exception as exc:
            verdict = {"status": "sandbox_error", "message": f"harness error: {exc!r}"[:500]}
        finally:
            sock.close()
        verdict["seq"] = seq
        frames.send(lane, verdict)
