"""Fixtures for the sandbox tests: real executors, real processes, real attacks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui.reward import Executor, Outcome

TIMEOUT_S = 3.0
# Lane uids of this test session only: other sessions on the machine (CI, another engineer's
# tests) run their own sandboxes, whose processes must not count as ours.
UID_BASE = 200_000 + 64 * (os.getpid() % 100_000)


@pytest.fixture(scope="session")
def executor() -> Iterator[Executor]:
    """Two lanes, full isolation, shared by the sandbox tests (lanes start once)."""
    with Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=256, uid_base=UID_BASE) as ex:
        yield ex


def run_one(ex: Executor, code: str, tests: dict[str, Any], id: str = "job") -> Outcome:
    (outcome,) = ex.run([{"id": id, "code": code, "tests": tests}])
    return outcome


def io_expect(ex: Executor, program: str, stdout: str) -> Outcome:
    """Run `program` as an io job whose only case expects `stdout`: a pass proves the program
    printed exactly that (e.g. "DENIED" after an attack failed)."""
    return run_one(ex, program, {"kind": "io", "cases": [{"stdin": "", "stdout": stdout}]})


def sandbox_processes(ex: Executor) -> list[dict[str, Any]]:
    """Processes running as one of the executor's lane uids, with their parent's uid."""
    base = UID_BASE
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = int(fields["Uid"].split()[0])
        if base <= uid < base + 2:
            ppid = int(fields["PPid"])
            try:
                parent = (Path("/proc") / str(ppid) / "status").read_text()
                puid = int(
                    next(ln for ln in parent.splitlines() if ln.startswith("Uid:")).split()[1]
                )
            except (OSError, StopIteration):
                puid = -1
            out.append(
                {
                    "pid": int(entry.name),
                    "uid": uid,
                    "ppid": ppid,
                    "parent_uid": puid,
                    "state": fields["State"].strip(),
                }
            )
    return out


def assert_no_survivors(ex: Executor) -> None:
    """Only the lanes' idle pre-forked children (whose parent is the root zygote) may run as a
    sandbox uid once a job is over: nothing the job started survives it, and no zombies."""
    procs = sandbox_processes(ex)
    strays = [p for p in procs if p["parent_uid"] != 0 or p["state"].startswith("Z")]
    assert not strays, f"processes survived their job: {strays}"
    assert len(procs) <= 2, procs


needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="per-lane uids exist only when running as root"
)
