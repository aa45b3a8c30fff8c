"""The event hub behind `/api/events`: numbered frames, fanned out to websocket clients.

Publishing never waits for a client. Each frame is encoded once, as UTF-8 JSON and as the
websocket frame that carries it, and the same bytes go to every client. Frames published
within one tick (`tick_s`, 50 ms by default) leave together: at the tick every client that is
keeping up gets the tick's frames as one shared byte string in one socket write, so the cost
of a client is one write per tick, not one task switch and one write per frame.

A client that is behind (its socket's buffer is full, or frames wait in its queue) gets frames
through its own bounded queue, sent in order by its pump task, and first gets less, not later:
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
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlaif_tui.api.models import EVENT_VERSION, EventType
from rlaif_tui.daemon.jsonout import dumps

LATEST_WINS = frozenset({"status", "metrics"})
"""Frame types of which a lagging client gets only the newest queued one."""
TICK_S = 0.05
"""How long a frame may wait to leave with the others of its tick (event latency + this)."""
SNAPSHOT_REUSE_S = 1.0
"""A snapshot is encoded again only if a frame was published since, or after this long:
clients that connect together (a dashboard's reconnect, a benchmark) share one."""

Write = Callable[[bytes], bool]
"""Writes whole websocket frames to a client's socket at once; False (nothing written) if the
socket is closing or its buffer is full."""


def wire(payload: bytes) -> bytes:
    """`payload` as one unmasked websocket text frame (RFC 6455 5.2: FIN + opcode 1, then the
    length in 7, 7+16 or 7+64 bits). Built here once per frame so all clients share it;
    aiohttp's writer would build it again for each socket."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


@dataclass(frozen=True, slots=True)
class Frame:
    id: int
    type: str
    data: bytes
    """The encoded JSON, shared by every client's queue."""
    wire: bytes
    """`data` as a websocket frame, ready for a socket."""


def encode(frame_id: int, type_: EventType, data: dict[str, Any]) -> Frame:
    text = dumps({"v": EVENT_VERSION, "id": frame_id, "type": type_, "data": data}).encode()
    return Frame(frame_id, type_, text, wire(text))


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
    """One websocket client: written to directly while it keeps up, else through a queue of
    encoded frames that coalesces when half full."""

    def __init__(
        self, limit: int, on_drop: Callable[[], None] | None = None, write: Write | None = None
    ) -> None:
        self.limit = limit
        self.soft = max(1, limit // 2)
        self.frames: deque[Frame] = deque()
        self.on_drop = on_drop
        self.write = write
        """Direct socket writes (the server's); None: every frame goes through the queue."""
        self.dropped = False
        self.coalesced = 0
        """Frames replaced or summarised for this client."""
        self.handed_id = 0
        """The last frame id queued for or written to this client."""
        self.sent_id = 0
        """The last frame id written to its socket."""
        self.sending = False
        """Its pump holds a frame it has not finished writing."""
        self.skipped: SkippedSamples | None = None
        self._queued_summary: tuple[SkippedSamples, Frame] | None = None
        self._ready = asyncio.Event()

    @property
    def direct(self) -> bool:
        """Nothing of its own waits to be sent: the tick's shared bytes may go straight out."""
        return (
            self.write is not None and not self.frames and self.skipped is None and not self.sending
        )

    def offer(self, frame: Frame, record: dict[str, Any] | None = None) -> bool:
        """Queue `frame` (coalescing if behind); False if the queue is full."""
        self.handed_id = max(self.handed_id, frame.id)
        if len(self.frames) >= self.soft:
            if frame.type == "sample" and record is not None:
                self.skipped = self.skipped or SkippedSamples()
                self.skipped.add(frame.id, record)
                self.coalesced += 1
                self._ready.set()
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

    async def ready(self) -> None:
        """Wait until a frame is queued (a pending `samples_skipped` summary counts)."""
        while not self.frames:
            if self.skipped is not None:
                self._flush_skipped()
                return
            self._ready.clear()
            await self._ready.wait()

    def write_queued(self) -> bool:
        """Write every queued frame at once if the socket takes them; False if it does not."""
        if self.write is None or self.sending or not self.frames:
            return False
        if not self.write(b"".join(frame.wire for frame in self.frames)):
            return False
        self.sent_id = self.frames[-1].id
        self.frames.clear()
        return True


class EventHub:
    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        *,
        queue_limit: int = 256,
        replay: int = 2048,
        first_id: int | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.snapshot = snapshot
        self.queue_limit = queue_limit
        self.tick_s = tick_s
        self.last_id = int(time.time() * 1000) * 1000 if first_id is None else first_id - 1
        self._recent: deque[Frame] = deque(maxlen=replay)
        self.subscribers: set[Subscriber] = set()
        self.dropped = 0
        """Clients dropped for not keeping up."""
        self.coalesced = 0
        """Frames replaced or summarised for lagging clients (all clients, all time)."""
        self.on_publish: Callable[[int, str], None] | None = None
        """Called with (id, type) as a frame is published (benchmarks time delivery)."""
        self.ticks = 0
        """Ticks that sent frames (each: at most one write per client)."""
        self._tick: list[tuple[Frame, dict[str, Any]]] = []
        self._tick_handle: asyncio.TimerHandle | None = None
        self._snapshot: tuple[int, float, Frame] | None = None

    def publish(self, type_: EventType, data: dict[str, Any]) -> int:
        self.last_id += 1
        frame = encode(self.last_id, type_, data)
        self._recent.append(frame)
        if self.on_publish is not None:
            self.on_publish(self.last_id, type_)
        waits = False
        for sub in list(self.subscribers):
            if sub.direct:
                waits = True  # it gets this frame with the others of the tick
            else:
                self._offer(sub, frame, data)
        if waits:
            self._tick.append((frame, data))
            if self._tick_handle is None:
                loop = asyncio.get_running_loop()
                self._tick_handle = loop.call_later(self.tick_s, self.flush)
        return self.last_id

    def flush(self) -> None:
        """Send the tick's frames: one shared write to each client that keeps up, the queue
        for the others (those it has not been handed yet)."""
        self._tick_handle = None
        tick, self._tick = self._tick, []
        if not tick:
            return
        self.ticks += 1
        first, last = tick[0][0].id, tick[-1][0].id
        shared: bytes | None = None
        for sub in list(self.subscribers):
            if sub.handed_id >= last:
                continue
            todo = tick if sub.handed_id < first else [t for t in tick if t[0].id > sub.handed_id]
            if sub.direct and sub.write is not None:
                if todo is tick:
                    shared = shared if shared is not None else b"".join(f.wire for f, _ in tick)
                    data = shared
                else:
                    data = b"".join(f.wire for f, _ in todo)
                if sub.write(data):
                    sub.handed_id = sub.sent_id = last
                    continue
            for frame, record in todo:
                if not self._offer(sub, frame, record):
                    break

    def _offer(self, sub: Subscriber, frame: Frame, record: dict[str, Any]) -> bool:
        before = sub.coalesced
        taken = sub.offer(frame, record)
        self.coalesced += sub.coalesced - before
        if not taken:
            self.drop(sub)
        return taken

    def subscribe(
        self,
        since: int | None,
        on_drop: Callable[[], None] | None = None,
        write: Write | None = None,
    ) -> Subscriber:
        """A new subscriber with its first frames queued: what it missed since `since` if
        those are all still here, else one snapshot."""
        missed = self._missed(since)
        first = missed if missed is not None else [self._snapshot_frame()]
        sub = Subscriber(self.queue_limit + len(first), on_drop, write)
        sub.soft = max(sub.soft, len(first) + self.queue_limit // 2)
        sub.frames.extend(first)
        sub.handed_id = self.last_id
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
        now = time.monotonic()
        cached = self._snapshot
        if cached is not None and cached[0] == self.last_id and now - cached[1] < SNAPSHOT_REUSE_S:
            return cached[2]
        frame = encode(self.last_id, "snapshot", self.snapshot())
        self._snapshot = (self.last_id, now, frame)
        return frame
