"""Closing the terminal (SIGHUP) or SIGTERM ends `rlaif-tui` like "quit, stop the demo daemon".

The real `rlaif-tui` command runs in a pseudo-terminal that is its controlling terminal, with the
demo daemon on the smoke config (up in seconds). Before the fix a SIGHUP killed the TUI on the
spot and the demo daemon it had started kept training, orphaned. A daemon the user started and
the TUI merely connected to must survive the TUI's end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon_helpers import SMOKE, start_daemon

pytestmark = [pytest.mark.slow]

RLAIF_TUI = Path(sys.executable).parent / "rlaif-tui"
# Make the pty the child's controlling terminal (so closing it sends SIGHUP, as a terminal
# window does), then become `rlaif-tui`. In the child, not via preexec_fn: no fork-time Python.
TAKE_TTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>$]*[a-zA-Z~]|\x1b\][^\x07]*\x07")
HANGUP_EXIT = 128 + signal.SIGHUP
TERM_EXIT = 128 + signal.SIGTERM
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


class Terminal:
    """`rlaif-tui ARGS` in an 80x24 pseudo-terminal; everything it draws is kept, uncoloured."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TEXTUAL_DRIVER", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", TAKE_TTY, str(RLAIF_TUI), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._drawn = bytearray()
        self._closing = threading.Event()
        # Drain the pty: a full buffer would block the TUI's writes.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            if not select.select([self.master], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the TUI's side is gone
                return
            if not chunk:
                return
            self._drawn.extend(chunk)

    def output(self) -> bytes:
        """Everything drawn; once the TUI has exited, up to its last byte."""
        if self.process.poll() is not None:
            self._reader.join(5)  # reads to EIO: the pty's other side is closed
        return bytes(self._drawn)

    def text(self) -> str:
        return ESCAPES.sub(b"", bytes(self._drawn)).decode("utf-8", errors="replace")

    def wait_for(self, what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while what not in self.text():
            if self.process.poll() is not None:
                pytest.fail(f"rlaif-tui exited ({self.process.returncode}): {self.text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what!r} on screen within {timeout_s} s: {self.text()[-2000:]}")
            time.sleep(0.1)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        """Close the terminal's side: the kernel hangs up the TUI's controlling terminal."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._reader.join(5)  # nobody else may hold the master, or closing it hangs nothing up
        os.close(self.master)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)


def demo_daemon(runs_root: Path, timeout_s: float = 120) -> tuple[Path, int]:
    """The demo's run directory and daemon pid, once `daemon.json` is written."""
    until(lambda: any(runs_root.glob("demo-*/daemon.json")), timeout_s, "the demo's daemon.json")
    info = next(runs_root.glob("demo-*/daemon.json"))
    until(lambda: info.read_text(encoding="utf-8").endswith("\n"), 10, "all of daemon.json")
    return info.parent, int(json.loads(info.read_text(encoding="utf-8"))["pid"])


def assert_stopped_cleanly(run_dir: Path, pid: int) -> None:
    """The daemon's graceful stop: gone, `daemon.json` removed, `daemon.last.json` says code 0."""
    until(lambda: not alive(pid), 60, f"the demo daemon (pid {pid}) to exit")
    assert not (run_dir / "daemon.json").exists(), "daemon.json left behind: not a clean stop"
    last = json.loads((run_dir / "daemon.last.json").read_text(encoding="utf-8"))
    assert last["pid"] == pid
    assert last["code"] == 0


@pytest.fixture
def demo_terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    """`rlaif-tui --demo` on the smoke config; kills the TUI and any demo daemon it leaves."""
    runs_root = tmp_path / "runs"
    args = ["--demo", "--demo-config", str(SMOKE), "--runs-root", str(runs_root)]
    terminal = Terminal(tmp_path, *args, "--rater", "tester")
    try:
        yield terminal, runs_root
    finally:
        terminal.kill()
        for info in runs_root.glob("demo-*/daemon.json"):
            with contextlib.suppress(ProcessLookupError, ValueError, KeyError):
                os.killpg(int(json.loads(info.read_text(encoding="utf-8"))["pid"]), signal.SIGKILL)


def test_sighup_stops_the_demo_daemon_it_started(
    demo_terminal: tuple[Terminal, Path],
) -> None:
    terminal, runs_root = demo_terminal
    run_dir, pid = demo_daemon(runs_root)
    terminal.wait_for("connected", 60)

    terminal.process.send_signal(signal.SIGHUP)

    code = terminal.process.wait(90)
    assert_stopped_cleanly(run_dir, pid)
    assert code == HANGUP_EXIT
    assert LEAVE_ALT_SCREEN in terminal.output(), "the TUI did not restore the terminal"


def test_closing_the_terminal_with_the_quit_dialog_open_stops_the_demo_daemon(
    demo_terminal: tuple[Terminal, Path],
) -> None:
    terminal, runs_root = demo_terminal
    run_dir, pid = demo_daemon(runs_root)
    terminal.wait_for("connected", 60)
    terminal.press("q")
    terminal.wait_for("Keep it running", 30)

    terminal.close()  # the terminal window goes away: SIGHUP, and a tty that no longer answers

    code = terminal.process.wait(90)
    assert_stopped_cleanly(run_dir, pid)
    assert code == HANGUP_EXIT


def test_sighup_while_the_demo_daemon_stops_lets_the_stop_finish(
    demo_terminal: tuple[Terminal, Path],
) -> None:
    """After "Stop it" the TUI waits for the daemon's checkpoint; a hangup then must not cut
    that wait short (the TUI would no longer SIGKILL a daemon that does not exit)."""
    terminal, runs_root = demo_terminal
    run_dir, pid = demo_daemon(runs_root)
    terminal.wait_for("connected", 60)
    terminal.press("q")
    terminal.wait_for("Keep it running", 30)
    terminal.press("y")  # "Stop it"
    log = run_dir.with_name(run_dir.name + ".log")
    until(lambda: "SIGTERM: finishing the step" in log.read_text(), 30, "the daemon's stop")

    terminal.process.send_signal(signal.SIGHUP)

    code = terminal.process.wait(90)
    assert not alive(pid), "the TUI exited while its demo daemon was still stopping"
    assert_stopped_cleanly(run_dir, pid)
    assert code == HANGUP_EXIT


def test_sigterm_leaves_a_daemon_the_user_started_running(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "run")
    terminal = Terminal(tmp_path, "--run", str(daemon.run_dir), "--rater", "tester")
    try:
        terminal.wait_for("connected", 60)

        terminal.process.send_signal(signal.SIGTERM)

        assert terminal.process.wait(60) == TERM_EXIT
        assert daemon.process.poll() is None, "the TUI stopped a daemon it did not start"
        assert json.loads((daemon.run_dir / "daemon.json").read_text())["pid"] == daemon.process.pid
    finally:
        terminal.kill()
        daemon.stop()
