"""The zygote: a warm Python interpreter that forks one hardened child per job.

Set-up and the trial child run here in Python; the per-job loop runs in Rust
(`_reward._zygote_serve`, reward_rs/src/sandbox/zygote.rs) and returns only in a forked child.

It never sees job data - no code, no tests - so no child can find another job's code or any
test in the memory it inherits. Protocol with its lane (a `SOCK_SEQPACKET` socket on fd 0):
the lane sends the config; the zygote answers with the protections in force; then, per job,
`{"go": seq}` -> it passes the pre-forked child's socket to the harness (fd 3) and a pidfd of
the child to the lane, pre-forks the next child while the job runs, reaps the finished child
and reports its exit status and rusage.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import sys
import sysconfig
from typing import Any

# Modules a generated program commonly imports: loaded once here, shared copy-on-write by
# every child, so a child need not import them itself (`typing` alone takes milliseconds).
# Not `hashlib`: it maps OpenSSL, which made every fork and exit ~0.3 ms dearer for the one
# HumanEval task in 164 that uses it.
PRELOAD = [
    "bisect",
    "collections",
    "collections.abc",
    "copy",
    "decimal",
    "fractions",
    "functools",
    "heapq",
    "io",
    "itertools",
    "json",
    "math",
    "operator",
    "random",
    "re",
    "string",
    "sys",
    "threading",
    "typing",
]

SYSTEM_READ = (
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/share/zoneinfo",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/dev/urandom",
    "/dev/zero",
)


def read_paths() -> list[str]:
    """What a child may read: this interpreter's stdlib (with lib-dynload) and system libraries."""
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = [stdlib, *SYSTEM_READ]
    dynload = os.path.join(stdlib, "lib-dynload")
    if os.path.isdir(dynload):
        paths.append(dynload)
    return [p for p in paths if os.path.exists(p)]


def send(sock: socket.socket, obj: Any, fds: list[int] | None = None) -> None:
    data = json.dumps(obj).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


class Zygote:
    def __init__(self, ctl: socket.socket, link: socket.socket, cfg: dict[str, Any]) -> None:
        self.ctl = ctl
        self.link = link
        self.cfg = cfg
        self.scratch = cfg["scratch_root"]
        self.jobs = 0
        self.pidns = False

    def fork_child(self) -> tuple[int, socket.socket, str]:
        """Fork a hardened child waiting for the harness; returns (pid, our end, scratch dir)."""
        from rlaif_tui import _reward
        from rlaif_tui.sandbox import child

        self.jobs += 1
        job_dir = os.path.join(self.scratch, f"job-{self.jobs}")
        _reward._make_job_dir(job_dir)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.pidns:
            _reward._zygote_new_pidns()
        pid = os.fork()
        if pid == 0:
            try:
                timings = _reward._child_harden(job_dir, theirs.fileno())
            except BaseException as exc:
                os.write(2, f"sandbox hardening failed: {exc}\n".encode())
                os._exit(71)
            child.serve(3, timings)
            os._exit(0)
        theirs.close()
        return pid, ours, job_dir

    def reap(self, pid: int, job_dir: str) -> dict[str, Any]:
        _, status, ru = os.wait4(pid, 0)
        shutil.rmtree(job_dir, ignore_errors=True)
        return {
            "exit": status,
            "utime": ru.ru_utime,
            "stime": ru.ru_stime,
            "maxrss_kb": ru.ru_maxrss,
        }

    def trial(self) -> dict[str, Any]:
        """Fork one child, check from inside that its protections hold, and report."""
        from rlaif_tui.sandbox import frames

        pid, sock, job_dir = self.fork_child()
        try:
            hello = frames.recv(sock)
            frames.send(sock, {"op": "load", "code": TRIAL_CODE, "mode": "module"})
            loaded = frames.recv(sock)
            frames.send(sock, {"op": "call", "name": "probe", "args": [], "kwargs": []})
            reply = frames.recv(sock)
        except Exception as exc:
            sock.close()
            self.reap(pid, job_dir)
            raise RuntimeError(f"trial child failed: {exc}") from None
        sock.close()
        report = self.reap(pid, job_dir)
        if not loaded.get("ok") or not reply.get("ok"):
            raise RuntimeError(f"trial child failed: {loaded} {reply}")
        from rlaif_tui.sandbox import codec

        return {
            "checks": codec.decode(reply["value"]),
            "harden_s": hello.get("harden_s"),
            "exit": report["exit"],
        }


# Run inside the trial child: each entry is True when the protection held.
TRIAL_CODE = r"""
import os, socket, errno
def probe():
    out = {"pid1": os.getpid() == 1, "uid": os.getuid()}
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.close()
        out["inet_socket_refused"] = False
    except OSError:
        out["inet_socket_refused"] = True
    out["proc_hidden"] = not os.path.exists("/proc/1") and not os.path.exists("/proc/self")
    try:
        open("/etc/passwd").close()
        out["reads_confined"] = False
    except OSError:
        out["reads_confined"] = True
    try:
        with open("probe.txt", "w") as f:
            f.write("x")
        out["scratch_writable"] = True
    except OSError:
        out["scratch_writable"] = False
    return out
"""


def main() -> None:
    from rlaif_tui import _reward

    ctl = socket.socket(fileno=0)
    link = socket.socket(fileno=3)
    # The lane started us with an empty environment; CPython's locale coercion (PEP 538) may
    # have added LC_CTYPE since. Children get nothing.
    os.environ.clear()
    # Nothing third-party on a child's import path (the lane's view also hides site-packages).
    sys.path[:] = [p for p in sys.path if "-packages" not in p]
    # Everything of this package the zygote and its children use, before the host view
    # narrows what the zygote itself can read.
    import rlaif_tui.sandbox.child
    import rlaif_tui.sandbox.codec
    import rlaif_tui.sandbox.frames

    try:
        cfg = json.loads(ctl.recv(1 << 20))
        cfg["read_paths"] = read_paths()
        cfg["write_files"] = ["/dev/null"]
        prot = json.loads(_reward._zygote_setup(json.dumps(cfg)))
        z = Zygote(ctl, link, cfg)
        if prot["user_namespace"] and prot["pid_namespace"]:
            become_pid1()
        z.pidns = prot["pid_namespace"]
        for name in PRELOAD:
            __import__(name)

        gc.collect()
        # Children then never write to these objects' GC headers: fewer copy-on-write faults.
        gc.freeze()
        trial = z.trial()
        checks = trial["checks"]
        prot["pid_namespace"] = prot["pid_namespace"] and checks["pid1"]
        prot["net_namespace"] = prot["net_namespace"] and checks["inet_socket_refused"]
        prot["landlock_fs"] = prot["landlock_fs"] and checks["reads_confined"]
        prot["host_view"] = prot["host_view"] and checks["proc_hidden"]
        if not checks["scratch_writable"]:
            raise RuntimeError("the trial child cannot write its scratch directory")
        send(
            ctl, {"ok": True, "protections": prot, "trial": trial, "python": sys.version.split()[0]}
        )
    except Exception as exc:
        send(ctl, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    gc.collect()
    gc.freeze()
    try:
        # Returns only in a forked, hardened child; the zygote itself loops in Rust, touching
        # none of its Python objects between forks (so it pays few copy-on-write faults).
        timings = _reward._zygote_serve(ctl.fileno(), link.fileno())
    except Exception as exc:
        os.write(2, f"zygote failed: {exc}\n".encode())
        os._exit(1)
    rlaif_tui.sandbox.child.serve(3, timings)
    os._exit(0)


def become_pid1() -> None:
    """Unprivileged path: the zygote continues in a fork that is pid 1 of its own PID namespace
    (created by `_zygote_setup`), so per-job namespaces nest under one its user namespace owns.
    The original process waits and mirrors the exit status."""
    from rlaif_tui import _reward

    pid = os.fork()
    if pid:
        os.closerange(0, 1024)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _reward._zygote_adopt_pidns()
