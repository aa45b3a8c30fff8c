"""The trusted harness: runs each job's tests in this process, with the candidate reached only
through proxies into its sandboxed child (see `session`). It holds the tests and expected values;
the child never does.

Protocol with the lane: length-prefixed JSON frames on fd 0 (`{"seq", "timeout",
"output_bytes", "job"}` in, a verdict out); the zygote passes each job's child socket on fd 3.
"""

from __future__ import annotations

import os
import socket
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


def run_job(msg: dict[str, Any], sock: socket.socket) -> Verdict:
    job = msg["job"]
    limit = int(msg["output_bytes"])
    session = Session(sock, frame_limit=4 * limit + (1 << 20))
    if not session.wait_ready():
        return {
            "status": "sandbox_error",
            "message": "the sandbox child died before it was ready (hardening failed?)",
        }
    try:
        tests = job["tests"]
        runner = RUNNERS[tests["kind"]]
        if type(job.get("code")) is not str:
            raise InvalidTests("code must be a string")
        verdict = runner(session, job, limit)
    except (InvalidTests, KeyError, TypeError) as exc:
        return {"status": "invalid", "message": f"invalid job: {exc}"}
    verdict["flags"] = sorted(set(verdict.get("flags", [])) | session.flags)
    verdict["child_died"] = session.dead
    if session.memory_error and verdict["status"] != "passed":
        verdict["status"] = "memory"
    return verdict


def main() -> None:
    lane = socket.socket(fileno=0)
    link = socket.socket(fileno=3)
    for name in PRELOAD:
        __import__(name)
    frames.send(lane, {"ok": True})
    while True:
        try:
            msg = frames.recv(lane)
        except (frames.FrameError, OSError):
            os._exit(0)
        seq = msg["seq"]
        sock = take_child(link, seq)
        try:
            verdict = run_job(msg, sock)
        except Exception as exc:
            verdict = {"status": "sandbox_error", "message": f"harness error: {exc!r}"[:500]}
        finally:
            sock.close()
        verdict["seq"] = seq
        frames.send(lane, verdict)
