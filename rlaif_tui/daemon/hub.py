"""The event hub behind `/api/events`: numbered frames, fanned out to bounded per-client queues.

Publishing never waits for a client. Each frame is encoded once (UTF-8 bytes) and the same
bytes go to every client's queue. A client that falls behind first gets less, not later:
once its queue is half full, a new `status` or `metrics` frame replaces the queued one of its
kind (the latest wins) and `sample` frames are counted into one `samples_skipped` summary
(GET /api/samples has them). Only a client whose queue still fills up (it stopped reading)
is dropped: closed with 1013 and a reason, after which it reconnects with `?since=`.

Recent frames are kept so a client that reconnects with `?since=ID` gets exactly what it
missed; a client that is new, or too far behind, gets a `snapshot` first.

Frame ids start at the daemon's start time in milliseconds times 1000 and grow by one, so an id
from an earlier daemon of the same run is never mistaken for one of this daemon.
Everything here runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlaif_tui.api.models import EVENT_VERSION, EventType
from rlaif_tui.daemon.jsonout import dumps

LATEST_WINS = frozenset({"status", "metrics"})
"""Frame types of which a lagging client gets only the newest queued one."""


@dataclass(frozen=True, slots=True)
class Frame:
    id: int
    type: str
    data: bytes
    """The encoded frame, shared by every client's queue."""


def encode(frame_id: int, type_: EventType, data: dict[str, Any]) -> Frame:
    text = dumps({"v": EVENT_VERSION, "id": frame_id, "type": type_, "data": data})
    return Frame(frame_id, type_, text.encode())


@dataclass(slots=True)
class SkippedSamples:
    """`sample` frames a lagging client was not sent, as one summary."""

    count: int = 0
    first_id: int = 0
    last_id: int = 0
    first_step: int | None = None
    last_step: int | None = None

    def add(self, frame_id: int, record: dict[str, Any]) -> None:
        step = record.get("step")
        if self.count == 0:
            self.first_id, self.first_step = frame_id, step
        self.count += 1
        self.last_id, self.last_step = frame_id, step

    def frame(self) -> Frame:
        data = {
            "count": self.count,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "first_step": self.first_step,
            "last_step": self.last_step,
        }
        return encode(self.last_id, "samples_skipped", data)


class Subscriber:
    """One websocket client's queue of encoded frames, coalescing when half full."""

    def __init__(self, limit: int, on_drop: Callable[[], None] | None = None) -> None:
        self.limit = limit
        self.soft = max(1, limit // 2)
        self.frames: deque[Frame] = deque()
        self.on_drop = on_drop
        self.dropped = False
        self.coalesced = 0
        """Frames replaced or summarised for this client."""
        self.skipped: SkippedSamples | None = None
        self._queued_summary: tuple[SkippedSamples, Frame] | None = None
        self._ready = asyncio.Event()

    def offer(self, frame: Frame, record: dict[str, Any] | None = None) -> bool:
        """Queue `frame` (coalescing if behind); False if the queue is full."""
        if len(self.frames) >= self.soft:
            if frame.type == "sample" and record is not None:
                self.skipped = self.skipped or SkippedSamples()
                self.skipped.add(frame.id, record)
                self.coalesced += 1
                return True
            if frame.type in LATEST_WINS:
                for i in range(len(self.frames) - 1, -1, -1):
                    if self.frames[i].type == frame.type:
                        del self.frames[i]
                        self.coalesced += 1
                        break
        if len(self.frames) >= self.limit:
            return False
        self._flush_skipped()
        self.frames.append(frame)
        self._ready.set()
        return True

    def _flush_skipped(self) -> None:
        """Queue the pending summary, merged with one still queued (one summary at most)."""
        if self.skipped is None:
            return
        queued = self._queued_summary
        if queued is not None and queued[1] in self.frames:
            self.frames.remove(queued[1])
            earlier = queued[0]
            self.skipped.count += earlier.count
            self.skipped.first_id, self.skipped.first_step = earlier.first_id, earlier.first_step
        frame = self.skipped.frame()  # its id: the last skipped sample's
        self.frames.append(frame)
        self._queued_summary = (self.skipped, frame)
        self.skipped = None

    async def get(self) -> Frame:
        """The next frame to send (waits for one)."""
        while not self.frames:
            if self.skipped is not None:
                self._flush_skipped()
                break
            self._ready.clear()
            await self._ready.wait()
        return self.frames.popleft()


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
        self._recent: deque[Frame] = deque(maxlen=replay)
        self.subscribers: set[Subscriber] = set()
        self.dropped = 0
        """Clients dropped for not keeping up."""
        self.coalesced = 0
        """Frames replaced or summarised for lagging clients (all clients, all time)."""
        self.on_publish: Callable[[int, str], None] | None = None
        """Called with (id, type) as a frame is published (benchmarks time delivery)."""

    def publish(self, type_: EventType, data: dict[str, Any]) -> int:
        self.last_id += 1
        frame = encode(self.last_id, type_, data)
        self._recent.append(frame)
        if self.on_publish is not None:
            self.on_publish(self.last_id, type_)
        for sub in list(self.subscribers):
            before = sub.coalesced
            if not sub.offer(frame, data):
                self.drop(sub)
            self.coalesced += sub.coalesced - before
        return self.last_id

    def subscribe(self, since: int | None, on_drop: Callable[[], None] | None = None) -> Subscriber:
        """A new subscriber with its first frames queued: what it missed since `since` if
        those are all still here, else one snapshot."""
        missed = self._missed(since)
        first = missed if missed is not None else [self._snapshot_frame()]
        sub = Subscriber(self.queue_limit + len(first), on_drop)
        sub.soft = max(sub.soft, len(first) + self.queue_limit // 2)
        sub.frames.extend(first)
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

    def _missed(self, since: int | None) -> list[Frame] | None:
        if since is None or since > self.last_id:
            return None
        if since == self.last_id:
            return []
        if not self._recent or self._recent[0].id > since + 1:
            return None  # some of what it missed is gone
        return [frame for frame in self._recent if frame.id > since]

    def _snapshot_frame(self) -> Frame:
        return encode(self.last_id, "snapshot", self.snapshot())
