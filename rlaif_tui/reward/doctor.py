"""`rlaif sandbox doctor`: which protections are in force on this machine, measured by starting
real sandbox lanes (their zygote probes the kernel and checks a trial child from inside)."""

from __future__ import annotations

import os
import platform

from rich.console import Console
from rich.table import Table

from rlaif_tui import _reward
from rlaif_tui.reward.executor import Executor

DESCRIPTIONS = {
    "pid_namespace": "each job is pid 1 of its own PID namespace: its death kills all descendants",
    "net_namespace": "empty network namespace: no interface, no route anywhere",
    "mount_ipc_uts_namespaces": "private mount, IPC and UTS namespaces per lane",
    "user_namespace": "unprivileged: the lane runs in its own user namespace",
    "uid_drop": "root: children run as a per-lane unprivileged uid with no capability at all",
    "no_new_privs": "no_new_privs: no privilege gain through exec",
    "landlock_fs": "Landlock: read stdlib and system libraries, write the job's scratch only",
    "landlock_net": "Landlock: TCP bind and connect denied",
    "landlock_scope": "Landlock: signals and abstract unix sockets scoped to the job",
    "seccomp": "seccomp: ptrace, mount, bpf, keyctl, non-unix sockets, ... refused",
    "rlimits": "rlimits: address space, CPU, processes, file size, open files, no core",
    "tmpfs_scratch": "scratch dirs on a size-capped per-lane tmpfs, each removed after its job",
    "cgroup": "cgroup v1 memory and pids limits on each lane as a whole",
    "host_view": "the lane's view hides /proc (no host pids), site-packages and closed host "
    "directories (the stdlib is bind-mounted back), so children need no capability",
}

HARNESS = {
    "uid_drop": "root: runs as its own unprivileged uid (lane uid + 2^20); keeps only DAC "
    "read-search, under Landlock (to import the stdlib from a 0700 home)",
    "net_namespace": "empty network namespace",
    "landlock_fs": "Landlock: reads the stdlib, system libraries and this package; writes nothing",
    "seccomp": "seccomp: the children's filter (no socket, connect or bind, no ptrace, mount, ...)",
}

HARNESS_MAY = (
    "The harness (trusted: it holds the tests and decides the verdict) may import the modules "
    "the test source names and decode builtin values the candidate returns, within its own "
    "address-space limit and the job's deadline. It may not import anything because of a "
    "candidate's answer, reach the network or any socket, write files, or outlive its lane. "
    "A value that explodes in a test ends the job as the candidate's memory/timeout "
    "(flags harness_memory/harness_timeout)."
)


def doctor(console: Console | None = None) -> str:
    """Print the protections table; return the isolation level in force."""
    console = console or Console()
    with Executor(workers=1, isolation_floor="none") as ex:
        prot = ex.protections
        level = ex.isolation
        missing = ex.missing
    t = Table(title=f"sandbox protections on {platform.node()} (kernel {platform.release()})")
    t.add_column("protection")
    t.add_column("in force")
    t.add_column("what it does", overflow="fold")
    for key, what in DESCRIPTIONS.items():
        on = bool(prot.get(key))
        if key == "user_namespace" and os.geteuid() == 0:
            mark = "[dim]n/a (root)[/]"
        elif key == "uid_drop" and os.geteuid() != 0:
            mark = "[dim]n/a (not root)[/]"
        else:
            mark = "[green]yes[/]" if on else "[red]no[/]"
        t.add_row(key, mark, what)
    console.print(t)
    h = Table(title="the harness (runs the tests, holds the expected values)")
    h.add_column("protection")
    h.add_column("in force")
    h.add_column("what it does", overflow="fold")
    confined = prot.get("harness") or {}
    for key, what in HARNESS.items():
        if key == "uid_drop" and os.geteuid() != 0:
            mark = "[dim]n/a (not root)[/]"
        else:
            mark = "[green]yes[/]" if confined.get(key) else "[red]no[/]"
        h.add_row(key, mark, what)
    console.print(h)
    console.print(HARNESS_MAY)
    console.print(f"Landlock ABI: {prot.get('landlock_abi', 0)}")
    console.print(f"seccomp refuses: {', '.join(_reward.seccomp_denied())}")
    style = "green" if level == "full" else "yellow"
    console.print(f"isolation level: [{style}]{level}[/]")
    if missing:
        console.print(f"missing for full isolation: {', '.join(missing)}")
    return level
