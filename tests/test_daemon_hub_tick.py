"""The event hub's ticks: frames published together leave together, one write per client.

The hub here is the daemon's, fed frames as the runner feeds it; the clients are real aiohttp
websockets on the daemon's app (127.0.0.1), or, for the hub's own bookkeeping, the write
function the server hands it, recording what would reach each socket.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from rlaif_tui.daemon.hub import EventHub, Frame, wire
from rlaif_tui.daemon.server import Daemon
from tests.test_daemon_app import AUTH, client, daemon  # noqa: F401  (fixtures)


def frames_in(data: bytes) -> list[dict[str, Any]]:
    """The JSON frames in a run of unmasked websocket text frames (what the hub writes)."""
    out = []
    while data:
        assert data[0] == 0x81, "FIN + text opcode"
        n, at = data[1], 2
        if n == 126:
            n, at = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(data[2:10], "big"), 10
        out.append(json.loads(data[at : at + n]))
        data = data[at + n :]
    return out


class Socket:
    """What the server's writer does, recorded: every write, or a full buffer (refuses)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.full = False

    def write(self, data: bytes) -> bool:
        if self.full:
            return False
        self.writes.append(data)
        return True


def test_wire_lengths_take_the_7_16_and_64_bit_forms() -> None:
    for n in (0, 125, 126, 65535, 65536):
        payload = b"x" * n
        frame = wire(payload)
        assert frame.endswith(payload)
        assert len(frame) - n == (2 if n < 126 else 4 if n < 65536 else 10)


async def test_a_tick_goes_out_as_one_shared_write_per_client() -> None:
    hub = EventHub(dict, first_id=1, tick_s=0.02)
    sockets = [Socket() for _ in range(3)]
    subs = [hub.subscribe(None, write=s.write) for s in sockets]
    for sub in subs:  # their snapshots, as the pump would send them
        assert sub.write_queued()
    ids = [hub.publish("log", {"level": "info", "message": str(n)}) for n in range(5)]
    assert all(len(s.writes) == 1 for s in sockets)  # nothing yet: the tick gathers
    await asyncio.sleep(0.1)
    batches = [s.writes[1] for s in sockets]
    assert all(len(s.writes) == 2 for s in sockets)
    assert batches[0] is batches[1] is batches[2]  # encoded once, shared
    assert [f["id"] for f in frames_in(batches[0])] == ids
    assert [f["data"]["message"] for f in frames_in(batches[0])] == ["0", "1", "2", "3", "4"]
    assert all(sub.sent_id == ids[-1] for sub in subs)
    assert hub.ticks == 1


async def test_a_client_whose_socket_is_full_gets_the_tick_through_its_queue() -> None:
    hub = EventHub(dict, first_id=1, tick_s=0.01)
    ok, full = Socket(), Socket()
    fast, slow = hub.subscribe(None, write=ok.write), hub.subscribe(None, write=full.write)
    assert fast.write_queued()
    assert slow.write_queued()
    full.full = True
    first = hub.publish("log", {"level": "info", "message": "a"})
    await asyncio.sleep(0.05)
    assert [f.id for f in slow.frames] == [first]  # queued, not lost
    assert not slow.direct  # later frames queue behind it, in order
    second = hub.publish("log", {"level": "info", "message": "b"})
    assert [f.id for f in slow.frames] == [first, second]
    full.full = False
    assert slow.write_queued()  # the pump's catch-up: one write
    assert [f["id"] for f in frames_in(full.writes[-1])] == [first, second]
    third = hub.publish("log", {"level": "info", "message": "c"})
    await asyncio.sleep(0.05)
    got = [f["id"] for w in full.writes[1:] for f in frames_in(w)]
    assert got == [first, second, third]  # no gap, no repeat
    assert [f["id"] for w in ok.writes[1:] for f in frames_in(w)] == [first, second, third]


async def test_a_client_back_from_its_queue_mid_tick_gets_only_what_it_lacks() -> None:
    hub = EventHub(dict, first_id=1, tick_s=0.05)
    ok, other = Socket(), Socket()
    hub.subscribe(None, write=ok.write).write_queued()
    sub = hub.subscribe(None, write=other.write)  # its snapshot still queued: not direct
    one = hub.publish("log", {"level": "info", "message": "one"})  # into its queue
    assert [f.id for f in sub.frames][-1] == one
    assert sub.write_queued()  # it catches up before the tick ends
    two = hub.publish("log", {"level": "info", "message": "two"})
    await asyncio.sleep(0.15)
    got = [f["id"] for w in other.writes for f in frames_in(w) if f["type"] != "snapshot"]
    assert got == [one, two]
    assert [f["id"] for f in frames_in(ok.writes[-1])] == [one, two]


async def test_a_snapshot_is_shared_by_clients_that_connect_together() -> None:
    calls = []

    def snapshot() -> dict[str, Any]:
        calls.append(1)
        return {"status": {}, "metrics": [], "samples": []}

    hub = EventHub(snapshot, first_id=1)
    first: list[Frame] = [next(iter(hub.subscribe(None).frames)) for _ in range(20)]
    assert len(calls) == 1
    assert all(f is first[0] for f in first)
    hub.publish("log", {"level": "info", "message": "new"})
    assert next(iter(hub.subscribe(None).frames)).id == first[0].id + 1  # not the stale one
    assert len(calls) == 2


async def test_websocket_clients_read_every_frame_of_a_tick_in_order(
    client: TestClient[Any, Any],  # noqa: F811
    daemon: Daemon,  # noqa: F811
) -> None:
    hub = daemon.hub
    sockets = [await client.ws_connect("/api/events", headers=AUTH) for _ in range(5)]
    for ws in sockets:
        assert json.loads((await ws.receive()).data)["type"] == "snapshot"
    sizes = [0, 100, 125, 126, 1000, 65535, 65536, 200_000]  # every header form
    ids = [hub.publish("log", {"level": "info", "message": "m" * n}) for n in sizes]
    async with asyncio.timeout(30):
        for ws in sockets:
            got = []
            for _ in sizes:
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT
                got.append(json.loads(msg.data))
            assert [f["id"] for f in got] == ids
            assert [len(f["data"]["message"]) for f in got] == sizes
    for ws in sockets:
        await ws.close()


async def test_the_bench_reader_reads_every_frame_and_closes_cleanly(
    client: TestClient[Any, Any],  # noqa: F811
    daemon: Daemon,  # noqa: F811
) -> None:
    from rlaif_tui.bench.ws_follower import follow

    got: list[dict[str, Any]] = []
    sizes = [0, 125, 126, 65535, 65536, 300_000]
    subscribed, all_in = asyncio.Event(), asyncio.Event()

    def on_text(buf: bytearray, start: int, end: int, _: float) -> None:
        got.append(json.loads(buf[start:end]))
        subscribed.set()  # the snapshot came: the hub has this client
        if len(got) == 1 + len(sizes):
            all_in.set()

    url = str(client.make_url("/api/events"))
    reader = await follow(url, "test-token-0123456789abcdef", on_text)
    await asyncio.wait_for(subscribed.wait(), 30)
    ids = [daemon.hub.publish("log", {"level": "info", "message": "m" * n}) for n in sizes]
    await asyncio.wait_for(all_in.wait(), 30)
    assert got[0]["type"] == "snapshot"
    assert [f["id"] for f in got[1:]] == ids
    assert [len(f["data"]["message"]) for f in got[1:]] == sizes
    reader.close()
    assert await asyncio.wait_for(reader.closed, 10) == 1000  # the daemon's answer
