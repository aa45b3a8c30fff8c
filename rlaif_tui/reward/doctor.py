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
    "uid_drop": "root: children run as a per-lane unprivileged uid; the one capability kept is "
    "DAC read-search, only under Landlock (the stdlib may sit in a 0700 home)",
    "no_new_privs": "no_new_privs: no privilege gain through exec",
    "landlock_fs": "Landlock: read stdlib and system libraries, write the job's scratch only",
    "landlock_net": "Landlock: TCP bind and connect denied",
    "landlock_scope": "Landlock: signals and abstract unix sockets scoped to the job",
    "seccomp": "seccomp: ptrace, mount, bpf, keyctl, non-unix sockets, ... refused",
    "rlimits": "rlimits: address space, CPU, processes, file size, open files, no core",
    "tmpfs_scratch": "scratch dirs on a size-capped per-lane tmpfs, each removed after its job",
    "cgroup": "cgroup v1 memory and pids limits on each lane as a whole",
}


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
    console.print(f"Landlock ABI: {prot.get('landlock_abi', 0)}")
    console.print(f"seccomp refuses: {', '.join(_reward.seccomp_denied())}")
    style = "green" if level == "full" else "yellow"
    console.print(f"isolation level: [{style}]{level}[/]")
    if missing:
        console.print(f"missing for full isolation: {', '.join(missing)}")
    return level
