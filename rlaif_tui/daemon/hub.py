"""The event hub behind `/api/events`: numbered frames, fanned out to bounded per-client queues.

Publishing never waits for a client: a frame is serialised once and put on every queue without
blocking; a client whose queue is full has stopped reading and is dropped (its connection is
closed), so a slow client never slows training (Home Assistant's websocket_api does the same).
Recent frames are kept so a client that reconnects with `?since=ID` gets exactly what it
missed; a client that is new, or too far behind, gets a `snapshot` first.

Frame ids start at the daemon's start time in milliseconds times 1000 and grow by one, so an id
from an earlier daemon of the same run is never mistaken for one of this daemon.
Everything here runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rlaif_tui.api.models import EVENT_VERSION, EventType


class Subscriber:
    """One websocket client's queue of serialised frames."""

    def __init__(self, limit: int, on_drop: Callable[[], None] | None = None) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(limit)
        self.on_drop = on_drop
        self.dropped = False


class EventHub:
    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        *,
        queue_limit: int = 256,
        replay: int = 2048,
        first_id: int | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.queue_limit = queue_limit
        self.last_id = int(time.time() * 1000) * 1000 if first_id is None else first_id - 1
        self._recent: deque[tuple[int, str]] = deque(maxlen=replay)
        self.subscribers: set[Subscriber] = set()
        self.dropped = 0
        """Clients dropped for not keeping up."""
        self.on_publish: Callable[[int, str], None] | None = None
        """Called with (id, type) as a frame is published (benchmarks time delivery)."""

    @staticmethod
    def frame(frame_id: int, type_: EventType, data: dict[str, Any]) -> str:
        return json.dumps({"v": EVENT_VERSION, "id": frame_id, "type": type_, "data": data})

    def publish(self, type_: EventType, data: dict[str, Any]) -> int:
        self.last_id += 1
        text = self.frame(self.last_id, type_, data)
        self._recent.append((self.last_id, text))
        if self.on_publish is not None:
            self.on_publish(self.last_id, type_)
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(text)
            except asyncio.QueueFull:
                self.drop(sub)
        return self.last_id

    def subscribe(self, since: int | None, on_drop: Callable[[], None] | None = None) -> Subscriber:
        """A new subscriber with its first frames queued: what it missed since `since` if
        those are all still here, else one snapshot."""
        missed = self._missed(since)
        first = missed if missed is not None else [self._snapshot_frame()]
        sub = Subscriber(self.queue_limit + len(first), on_drop)
        for text in first:
            sub.queue.put_nowait(text)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def drop(self, sub: Subscriber) -> None:
        if sub.dropped:
            return
        sub.dropped = True
        self.subscribers.discard(sub)
        self.dropped += 1
        if sub.on_drop is not None:
            sub.on_drop()

    def _missed(self, since: int | None) -> list[str] | None:
        if since is None or since > self.last_id:
            return None
        if since == self.last_id:
            return []
        if not self._recent or self._recent[0][0] > since + 1:
            return None  # some of what it missed is gone
        return [text for frame_id, text in self._recent if frame_id > since]

    def _snapshot_frame(self) -> str:
        return self.frame(self.last_id, "snapshot", self.snapshot())
