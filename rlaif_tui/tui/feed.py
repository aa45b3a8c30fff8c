"""Where frames come from: the daemon's websocket, or a recorded list replayed in order.

`ReplayFeed` plays recorded `/api/events` frames (a JSONL file of `Event`s) and then stays open
like a live stream that has gone quiet. The snapshot tests use it for fixed input; it is not a
daemon: nothing can be sent to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from rlaif_tui.api import Event


class EventSource(Protocol):
    def events(self, since: int | None = None) -> AsyncIterator[Event]: ...


class ReplayFeed:
    def __init__(self, frames: Sequence[Event]) -> None:
        self.frames = list(frames)

    @classmethod
    def from_jsonl(cls, path: Path) -> ReplayFeed:
        frames = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    frames.append(Event.model_validate_json(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not an event frame: {exc}") from exc
        return cls(frames)

    async def events(self, since: int | None = None) -> AsyncIterator[Event]:
        for frame in self.frames:
            if since is None or frame.id > since:
                yield frame
        await asyncio.Event().wait()  # a quiet live stream: open until the app closes it
