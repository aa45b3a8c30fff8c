"""The load of `rlaif bench daemon`, in its own process: websocket clients that follow
`/api/events`, clients that connect and never read, or a poster of ratings.

`python -m rlaif_tui.bench.daemon_clients URL FOLLOWERS SLOW RATE` (token in `$RLAIF_TOKEN`)
prints `ready` once connected, runs until its stdin closes, then prints one JSON object:
`received_ids` and `received_t` (base64 of native int64 and float64 arrays: frame id and
monotonic receive time of every non-snapshot frame whose id is a multiple of `SAMPLE_EVERY`,
all followers; compact, so the benchmark's process does not grow with them), `frames`
(frames the followers read), `rating_ack_s`, `sent`, `failed`, `closed_followers` (followers
the daemon closed), `cpu_s`.

A follower reads every frame as it arrives (the stream's rate), as a remote TUI would, but
costs as little as it can, because on one machine the clients' CPU is taken from the daemon
under test: it is a bare asyncio protocol (`ws_follower`) that parses each chunk's frames in
one callback; the first follower of a process decodes every frame's JSON (the TUI's work),
the others read a frame's id and type from its head (the daemon writes `"id"` and `"type"`
first). A rating poster (RATE > 0) learns sample ids from `GET /api/samples` once a second,
so it needs no websocket of its own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import resource
import sys
import time
import uuid
from array import array
from typing import TYPE_CHECKING

import aiohttp

from rlaif_tui.bench.ws_follower import follow

if TYPE_CHECKING:  # imported when a process posts ratings: followers start light
    from rlaif_tui.api import DaemonClient

SAMPLE_EVERY = 4
"""Latency is recorded for every 4th frame id (all clients), to keep the report small."""
HEAD = re.compile(rb'"id": (\d+), "type": "(\w+)"')
"""A frame's id and type, the second and third keys the daemon writes."""
SAMPLE_IDS_EVERY_S = 1.0


class Clients:
    """Websocket followers, silent clients and a rating poster."""

    def __init__(self, url: str, token: str, followers: int, slow: int, rate: float) -> None:
        self.url, self.token = url, token
        self.followers, self.slow, self.rate = followers, slow, rate
        self.received_ids = array("q")
        self.received_t = array("d")
        self.frames = 0
        self.rating_ack_s: list[float] = []
        self.sent = self.failed = 0
        self.sample_ids: list[str] = []
        self.closed_followers = 0

    async def run(self) -> None:
        """Connect everything, say `ready`, and go on until stdin closes."""
        url = f"{self.url}/api/events"
        followers = [
            await follow(url, self.token, self._decode if i == 0 else self._head)
            for i in range(self.followers)
        ]
        headers = {"Authorization": f"Bearer {self.token}"}
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            silent = [  # never read: the daemon must drop them, not wait for them
                await http.ws_connect(url, headers=headers, heartbeat=None)
                for _ in range(self.slow)
            ]
            rater = asyncio.create_task(self._rate()) if self.rate > 0 else None
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            if rater is not None:
                rater.cancel()
                await asyncio.gather(rater, return_exceptions=True)
            self.closed_followers = sum(f.closed.done() for f in followers)
            for follower in followers:
                follower.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(f.closed for f in followers)), 10)
            for ws in silent:
                with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                    await asyncio.wait_for(ws.close(), 5)

    def _decode(self, buf: bytearray, start: int, end: int, now: float) -> None:
        """The TUI's work: the whole frame's JSON."""
        frame = json.loads(buf[start:end])
        self._seen(int(frame["id"]), frame["type"] == "snapshot", now)

    def _head(self, buf: bytearray, start: int, end: int, now: float) -> None:
        """The benchmark's work: the frame's id and type, from its head."""
        head = HEAD.search(buf, start, min(end, start + 80))
        if head is None:
            raise ValueError(f"a frame without an id and type at its head: {buf[start:end][:80]!r}")
        self._seen(int(head[1]), head[2] == b"snapshot", now)

    def _seen(self, frame_id: int, snapshot: bool, now: float) -> None:
        self.frames += 1
        if not snapshot and frame_id % SAMPLE_EVERY == 0:
            self.received_ids.append(frame_id)
            self.received_t.append(now)

    async def _sample_ids(self, client: DaemonClient) -> None:
        """The newest sample ids, once a second (what a rater's TUI lists)."""
        while True:
            with contextlib.suppress(Exception):
                page, _ = await client.samples(limit=50)
                self.sample_ids = [str(s["id"]) for s in page] or self.sample_ids
            await asyncio.sleep(SAMPLE_IDS_EVERY_S)

    async def _rate(self) -> None:
        from rlaif_tui.api import DaemonClient, RatingIn

        async with DaemonClient(self.url, self.token, timeout_s=30) as client:
            ids = asyncio.create_task(self._sample_ids(client))
            try:
                period = 1.0 / self.rate
                next_at = time.perf_counter()
                while True:
                    next_at += period
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    if not self.sample_ids:
                        continue
                    sample = self.sample_ids[self.sent % len(self.sample_ids)]
                    rating = RatingIn(
                        id=uuid.uuid4().hex, sample_id=sample, score=1 + self.sent % 5
                    )
                    t0 = time.perf_counter()
                    self.sent += 1
                    try:
                        await client.rate(rating)
                    except Exception:
                        self.failed += 1
                        continue
                    self.rating_ack_s.append(time.perf_counter() - t0)
            finally:
                ids.cancel()


def main() -> None:
    url, followers, slow, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    clients = Clients(url, os.environ["RLAIF_TOKEN"], followers, slow, rate)
    asyncio.run(clients.run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "received_ids": base64.b64encode(clients.received_ids.tobytes()).decode(),
            "received_t": base64.b64encode(clients.received_t.tobytes()).decode(),
            "frames": clients.frames,
            "rating_ack_s": clients.rating_ack_s,
            "sent": clients.sent,
            "failed": clients.failed,
            "closed_followers": clients.closed_followers,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        },
        sys.stdout,
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
