"""The run directory (docs/architecture.md): config snapshot, metrics, samples, checkpoints,
settings journal; and the reporters (TensorBoard, ...: `train.reporters`) fed the same metrics."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from rlaif_tui.train.reporters import HparamValue, Reporter, hparams_of, make_reporters


class RunDir:
    def __init__(self, path: Path, *, report_to: Iterable[str] = ("tensorboard",)) -> None:
        self.path = path
        self.checkpoints = path / "checkpoints"
        self.metrics_path = path / "metrics.jsonl"
        self.samples_path = path / "samples.jsonl"
        self.settings_path = path / "settings.jsonl"
        self.config_path = path / "config.yaml"
        self.report_to = list(report_to)
        """Reporter names (`logging.report_to`); opened at the first logged step."""
        self._reporters: list[Reporter] | None = None
        self._hparams: dict[str, HparamValue] = {}

    def create(self, config: BaseModel) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        data = config.model_dump(mode="json")
        self.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
        self._hparams = hparams_of(config)

    def _open_reporters(self, first_step: int) -> list[Reporter]:
        """The reporters, started at the first step this process logs (the resumed step)."""
        if self._reporters is None:
            self._reporters = make_reporters(self.report_to, self.path, self.path.name)
            for reporter in self._reporters:
                reporter.start(first_step, self._hparams)
        return self._reporters

    def _append(self, path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append whole lines or nothing: on a failed write (a full disk) the file is cut
        back to its old length, so no torn line is left for later lines to run into."""
        data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
        with path.open("ab") as fh:
            size = fh.seek(0, os.SEEK_END)
            try:
                fh.write(data)
                fh.flush()
            except OSError:
                with contextlib.suppress(OSError):
                    os.truncate(path, size)
                raise

    def log_metrics(self, step: int, metrics: Mapping[str, float]) -> None:
        self._append(self.metrics_path, [{"step": step, "time": time.time(), **metrics}])
        for reporter in self._open_reporters(step):
            reporter.scalars(step, metrics)

    def log_samples(self, samples: Iterable[Mapping[str, Any]]) -> None:
        rows = list(samples)
        self._append(self.samples_path, rows)
        by_step: dict[int, list[Mapping[str, Any]]] = {}
        for row in rows:
            by_step.setdefault(int(row.get("step", 0)), []).append(row)
        for step, some in by_step.items():
            for reporter in self._open_reporters(step):
                reporter.samples(step, some)

    def log_settings(self, step: int, settings: Mapping[str, Any]) -> None:
        self._append(
            self.settings_path, [{"step": step, "time": time.time(), "settings": dict(settings)}]
        )

    def truncate_after(self, step: int) -> None:
        """Drop metrics and samples of steps after `step` (they are redone on resume)."""
        for path in (self.metrics_path, self.samples_path):
            if not path.exists():
                continue
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and _step_of(line) <= step
            ]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def close(self) -> None:
        for reporter in self._reporters or []:
            reporter.close()
        self._reporters = None


def _step_of(line: str) -> int:
    try:
        return int(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return 1 << 62  # a torn last line from a kill: drop it


LOCK_NAME = "lock"


class RunDirBusy(RuntimeError):
    """Another process holds the run directory's lock; the message names its pid."""


class RunLock:
    """An exclusive `fcntl.flock` on `<run>/lock`, held by `rlaif daemon` and `rlaif train`
    for their lifetime, so two processes never train into (or serve) one run directory.

    The kernel drops the lock when its holder exits, however it exits (kill -9 included), so a
    lock is never stale; the file keeps the holder's pid and role for the refusal message.
    """

    def __init__(self, run_dir: Path, role: str) -> None:
        self.path = run_dir / LOCK_NAME
        self.role = role
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
            os.close(fd)
            who = f"pid {holder[0]} ({' '.join(holder[1:])})" if holder else "another process"
            raise RunDirBusy(
                f"run directory {self.path.parent} is in use by {who}; stop it or choose "
                "another --run-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
