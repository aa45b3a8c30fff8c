"""SIGHUP and SIGTERM end the TUI the way "quit, stop the demo daemon" does.

Python's default for both is to die on the spot, skipping the `finally` in `cli.main` that stops
the demo daemon this TUI started: closing the terminal of `make demo` left that daemon training
with nobody watching. Here the first signal asks the app to exit (Textual restores the terminal
if it is still there) and the `finally` stops the demo (SIGTERM: checkpoint, then exit). A daemon
the user started and the TUI only connected to is not the app's `demo`, so it is never stopped.
"""

from __future__ import annotations

import asyncio
import signal
from types import FrameType, TracebackType
from typing import Any

from textual.app import App

ENDING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class EndingSignals:
    """While active, SIGHUP/SIGTERM exit `app` instead of killing the process.

    Once `stopping()` is called (the app has returned and the demo is being stopped), further
    signals are only recorded: the stop in progress is bounded and finishes."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.received: int | None = None
        """The first ending signal received, if any."""
        self._stopping = False
        self._before: dict[int, Any] = {}

    def __enter__(self) -> EndingSignals:
        for signum in ENDING_SIGNALS:
            self._before[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._before.items():
            signal.signal(signum, handler)

    def stopping(self) -> None:
        self._stopping = True

    @property
    def exit_code(self) -> int | None:
        """128 + the signal, a shell's code for a process ended by it; None if none came."""
        return None if self.received is None else 128 + self.received

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._stopping:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # The app's loop has not started (nothing to stop yet) or has just ended: unwinding
            # from here runs the caller's `finally` all the same.
            raise SystemExit(128 + signum) from None
        # A signal handler interrupts the loop between any two bytecodes: hand over the exit.
        loop.call_soon_threadsafe(self.app.exit)
