"""Where the daemon is: a run directory, a local daemon found under `runs/`, or a demo child.

A running daemon writes `daemon.json` (`{"url", "pid", "started_at"}`) and `token` (mode 0600)
into its run directory (docs/architecture.md); this module reads them. Nothing here imports
training code: the demo daemon is a separate `rlaif daemon` process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rlaif_tui.resources import asset_root

QUICKSTART_CONFIG = asset_root() / "configs" / "quickstart.yaml"
"""The packaged quickstart config (the repository's `configs/quickstart.yaml`)."""


class TargetError(ValueError):
    """The run directory does not describe a usable daemon; the message says which file."""


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None
    run_dir: Path | None = None
    pid: int | None = None


@dataclass(frozen=True)
class LastExit:
    """`daemon.last.json`: what the run's previous daemon left when it exited cleanly."""

    pid: int | None
    code: int | None
    step: int | None


def command_path(name: str) -> str:
    """`name` if the shell finds this installation's copy on PATH, else its absolute path, so
    a printed command runs as printed (e.g. when the venv is not activated)."""
    beside = Path(sys.executable).parent / name
    if not beside.exists():
        return shutil.which(name) or name
    found = shutil.which(name)
    if found is not None and Path(found).resolve() == beside.resolve():
        return name
    return str(beside)


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is inside it, else absolute."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def resume_command(run_dir: Path) -> str:
    """The command that starts a daemon again on `run_dir`, runnable as printed."""
    return f"{command_path('rlaif')} daemon --resume {shown_path(run_dir)}"


def read_last_exit(run_dir: Path) -> LastExit | None:
    try:
        info = json.loads((run_dir / "daemon.last.json").read_text(encoding="utf-8"))
        return LastExit(info.get("pid"), info.get("code"), info.get("step"))
    except (OSError, ValueError, AttributeError):
        return None


def read_run_dir(run_dir: Path) -> Target:
    """The URL and token of the daemon serving `run_dir`."""
    info_path = run_dir / "daemon.json"
    if not run_dir.is_dir():
        raise TargetError(
            f"{run_dir}: no such run directory. Start a run with "
            f"`{command_path('rlaif')} daemon --config configs/quickstart.yaml --run-dir "
            f"{run_dir}`, or pass the directory of an existing run"
        )
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        url = str(info["url"])
        pid = int(info["pid"]) if "pid" in info else None
    except FileNotFoundError as exc:
        raise TargetError(
            f"{info_path}: not found — no daemon is serving this run. "
            f"Start one with `{resume_command(run_dir)}`"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise TargetError(f'{info_path}: expected a JSON object with "url": {exc}') from exc
    token_path = run_dir / "token"
    try:
        token: str | None = token_path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        token = None
    except PermissionError as exc:
        raise TargetError(f"{token_path}: cannot read the token ({exc.strerror})") from exc
    return Target(url, token, run_dir, pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True


def answers_health(url: str, timeout_s: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/health", timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def find_local(runs_root: Path = Path("runs")) -> Target | None:
    """The newest run under `runs_root` whose daemon is alive and answers `/api/health`."""
    candidates: list[tuple[float, Path]] = []
    for info_path in runs_root.glob("*/daemon.json"):
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
            started = float(info.get("started_at", info_path.stat().st_mtime))
            if not pid_alive(int(info["pid"])):
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        candidates.append((started, info_path.parent))
    for _, run_dir in sorted(candidates, reverse=True):
        try:
            target = read_run_dir(run_dir)
        except TargetError:
            continue
        if answers_health(target.url):
            return target
    return None


def rlaif_command() -> list[str]:
    """How to run the `rlaif` CLI of this installation."""
    beside = Path(sys.executable).parent / "rlaif"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("rlaif")
    if found is None:
        raise TargetError("cannot find the `rlaif` command: install rlaif-tui with its train extra")
    return [found]


DEMO_HOLD_S = 1.0
"""Seconds the demo holds each batch's update open for ratings (`reward.human.hold_s`), and the
grace after each score while someone rates. Short: a demo step computes in about 1.2 s, and a
4 s hold made the demo spend two thirds of its time waiting for ratings nobody was giving."""
DEMO_RATER_HOLD_S = 20.0
"""While someone rates, the demo's batches wait up to this long for a score
(`reward.human.rater_hold_s`): reading a program takes longer than `DEMO_HOLD_S`."""


class DemoDaemon:
    """`rlaif daemon --config configs/quickstart.yaml` in a fresh run dir, as a child process."""

    def __init__(self, config: Path = QUICKSTART_CONFIG, runs_root: Path = Path("runs")) -> None:
        if not config.exists():
            raise TargetError(f"{config}: not found (reinstall rlaif-tui)")
        self.config = config
        self.run_dir = runs_root / time.strftime("demo-%Y%m%d-%H%M%S")
        self.log_path = self.run_dir.with_name(self.run_dir.name + ".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> Target:
        """Start the daemon and wait (bounded) until it has written `daemon.json` and answers."""
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        command = [
            *rlaif_command(),
            "daemon",
            "--config",
            str(self.config),
            "--port",
            "0",
            "--run-dir",
            str(self.run_dir),
            "--set",
            f"reward.human.hold_s={DEMO_HOLD_S}",
            "--set",
            f"reward.human.rater_hold_s={DEMO_RATER_HOLD_S}",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TargetError(
                    f"the demo daemon exited with code {self.process.returncode}; "
                    f"its output is in {self.log_path}"
                )
            try:
                target = read_run_dir(self.run_dir)
            except TargetError:
                time.sleep(0.2)
                continue
            if answers_health(target.url):
                return target
            time.sleep(0.2)
        self.stop()
        raise TargetError(
            f"the demo daemon did not answer within {timeout_s:.0f} s; see {self.log_path}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (the daemon checkpoints and exits), then SIGKILL if it does not."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
