"""Where the CPU goes during `rlaif bench daemon`: per thread of this process, its other
processes, and the whole machine, from Linux's /proc (elsewhere every figure is None).

A thread is named by what Python knows of it (`threading` names by native id: the event
loop's main thread is `loop`, then the trainer's, the ratings store's and the executor's
threads); a thread Python did not start by its kernel name (`comm`): the sandbox's Rust
lanes are `native:sandbox-lane`, threads nobody named (torch's intra-op pool)
`native:unnamed`. The machine's busy time is every core's non-idle time (user, nice,
system, irq, softirq, steal) since boot, so a window's delta over its wall time is how many
cores were busy, whoever used them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def _stat_fields(text: str) -> list[str]:
    """The fields after `comm` of a /proc/<pid>/stat line (comm may hold spaces and parens)."""
    return text.rsplit(")", 1)[1].split()


def _cpu_of(fields: list[str], children: bool) -> float:
    # fields[0] is `state` (field 3 of proc(5)): utime is field 14, stime 15, cutime 16, cstime 17
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks * TICK_S


def thread_groups(names: dict[int, str] | None = None) -> dict[str, float] | None:
    """CPU seconds of each thread of this process, summed by group name (see the module)."""
    task = PROC / "self" / "task"
    if not task.is_dir():
        return None
    known = names if names is not None else python_thread_names()
    process_comm = (PROC / "self" / "comm").read_text().strip()
    out: dict[str, float] = {}
    for entry in task.iterdir():
        try:
            tid = int(entry.name)
            text = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        # a native thread nobody named keeps the process's name: torch's intra-op pool
        native = "unnamed" if comm == process_comm else _without_counter(comm)
        group = known.get(tid) or f"native:{native}"
        out[group] = out.get(group, 0.0) + _cpu_of(_stat_fields(text), children=False)
    return out


def python_thread_names() -> dict[int, str]:
    """Native thread id -> group: `loop` (main thread), or the thread's name with a trailing
    `_N` / `-N` counter removed (executor threads are one group)."""
    out: dict[int, str] = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        if thread is threading.main_thread():
            out[thread.native_id] = "loop"
        else:
            out[thread.native_id] = _without_counter(thread.name)
    return out


def _without_counter(name: str) -> str:
    """`asyncio_3` -> `asyncio`, `sandbox-lane-1` -> `sandbox-lane`: one group per pool."""
    return name.rstrip("0123456789").rstrip("_-") or name


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds of process `pid` and of the children it has reaped; None if it is gone."""
    try:
        return _cpu_of(_stat_fields((PROC / str(pid) / "stat").read_text()), children=True)
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """Every living process below `pid` (children, their children, ...)."""
    parent_of: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent_of[int(entry.name)] = int(_stat_fields((entry / "stat").read_text())[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        ppid = frontier.pop()
        kids = [p for p, pp in parent_of.items() if pp == ppid]
        found += kids
        frontier += kids
    return found


def machine_busy_s() -> float | None:
    """Non-idle CPU seconds of all cores since boot (/proc/stat's `cpu` line)."""
    try:
        line = (PROC / "stat").read_text().splitlines()[0]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user/nice]
    values = [int(v) for v in line.split()[1:9]]
    return (sum(values) - values[3] - values[4]) * TICK_S


@dataclass
class CpuSnapshot:
    """CPU counters at one moment; subtract two for a window's use."""

    threads: dict[str, float] | None
    helpers_s: float | None
    """Processes below this one other than the ones excluded (the sandbox's zygotes)."""
    machine_s: float | None

    @classmethod
    def take(cls, exclude: Collection[int] = ()) -> CpuSnapshot:
        threads = thread_groups()
        helpers: float | None = None
        if threads is not None:
            helpers = sum(
                process_cpu_s(p) or 0.0 for p in descendants(os.getpid()) if p not in exclude
            )
        return cls(threads, helpers, machine_busy_s())


@dataclass
class CpuUse:
    """CPU seconds used in a set of windows, by whom."""

    threads: dict[str, float] = field(default_factory=dict)
    helpers_s: float = 0.0
    machine_s: float = 0.0
    measured: bool = True

    def add(self, before: CpuSnapshot, after: CpuSnapshot) -> None:
        if after.threads is None or before.threads is None:
            self.measured = False
            return
        for group, seconds in after.threads.items():
            delta = seconds - before.threads.get(group, 0.0)
            self.threads[group] = self.threads.get(group, 0.0) + max(0.0, delta)
        self.helpers_s += max(0.0, (after.helpers_s or 0.0) - (before.helpers_s or 0.0))
        self.machine_s += (after.machine_s or 0.0) - (before.machine_s or 0.0)
