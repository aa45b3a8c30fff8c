"""Start a real `rlaif daemon` on 127.0.0.1 for a test module, and wait for it, bounded."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rlaif_tui.api import DaemonClient
from rlaif_tui.tui.discover import answers_health, read_run_dir

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "smoke.yaml"
RLAIF = Path(sys.executable).parent / "rlaif"


@dataclass
class LiveDaemon:
    run_dir: Path
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self) -> DaemonClient:
        return DaemonClient(self.url, self.token, timeout_s=60)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout_s: float = 120) -> int:
        """SIGTERM, then wait (bounded); SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def start_daemon(
    run_dir: Path,
    *args: str,
    timeout_s: float = 180,
    keep_info: bool = False,
    log_dir: Path | None = None,
    port: str | None = "0",
) -> LiveDaemon:
    """`rlaif daemon --config configs/smoke.yaml --port 0 --run-dir RUN_DIR ARGS...`.

    `keep_info`: leave an existing `daemon.json` (a stale one the daemon must replace).
    `log_dir`: where its output goes (default: beside the run directory).
    `port=None`: no `--port`, the daemon's own choice."""
    log_path = (log_dir or run_dir.parent) / f"{run_dir.name}-{time.monotonic_ns()}.log"
    info = run_dir / "daemon.json"
    if not keep_info:
        info.unlink(missing_ok=True)
    command = [str(RLAIF), "daemon", "--config", str(SMOKE)]
    if port is not None:
        command += ["--port", port]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--run-dir", str(run_dir), *args],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the daemon exited: {log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the daemon did not come up within {timeout_s} s")
        if info.exists():
            if keep_info and json.loads(info.read_text() or "{}").get("pid") != process.pid:
                time.sleep(0.2)
                continue
            try:
                target = read_run_dir(run_dir)
            except ValueError:  # being written
                target = None
            if target is not None and answers_health(target.url):
                assert target.token is not None
                assert json.loads(info.read_text())["pid"] == process.pid
                return LiveDaemon(run_dir, target.url, target.token, process, log_path)
        time.sleep(0.2)
