"""The TUI under Textual's Pilot against a real `rlaif daemon` on 127.0.0.1 (smoke config).

Each test starts its own daemon in a temporary run dir, reads `daemon.json` and `token` from
it as `rlaif-tui --run` does, and checks the daemon's own answer, not just the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui.api import DaemonClient
from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.discover import answers_health, read_run_dir
from rlaif_tui.tui.screens.rating import RatingScreen
from rlaif_tui.tui.widgets.run_header import RunHeader

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "smoke.yaml"
RLAIF = Path(sys.executable).parent / "rlaif"


def _check_daemon_cli() -> None:
    """A missing config or a broken `rlaif daemon` is a failure of the product, not a skip."""
    assert SMOKE.exists(), f"{SMOKE.relative_to(REPO)} is missing"
    out = subprocess.run(
        [str(RLAIF), "daemon", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, f"`rlaif daemon --help` failed:\n{out.stderr[-3000:]}"


pytestmark = [pytest.mark.slow]

LOST = ("reconnecting", "unreachable")
"""Connection states of a dropped stream (a cut proxy is `unreachable`)."""


@dataclass
class Daemon:
    run_dir: Path
    url: str
    token: str | None
    process: subprocess.Popen[bytes]

    def client(self, url: str | None = None) -> DaemonClient:
        return DaemonClient(url or self.url, self.token)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    _check_daemon_cli()
    run_dir = tmp_path / "run"
    log = (tmp_path / "daemon.log").open("wb")
    command = [str(RLAIF), "daemon", "--config", str(SMOKE), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--run-dir", str(run_dir)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the daemon did not come up within 120 s"
            if (run_dir / "daemon.json").exists():
                target = read_run_dir(run_dir)
                if answers_health(target.url):
                    break
            time.sleep(0.2)
        yield Daemon(run_dir, target.url, target.token, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


async def until(predicate: Any, pilot: Any, timeout_s: float, what: str) -> None:
    """Poll `predicate` (sync or async) between Pilot pauses, for at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                result = predicate()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await pilot.pause(0.1)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


async def rate_shown_samples(app: RlaifApp, pilot: Any, keys: list[str]) -> list[str]:
    """Press a score key for each sample the rating screen shows; the ids rated, in order."""
    await pilot.press("r")
    rated: list[str] = []
    for key in keys:
        screen = app.screen
        assert isinstance(screen, RatingScreen)
        await until(lambda s=screen: s.current is not None, pilot, 180, "a sample to rate")
        assert screen.current is not None
        rated.append(str(screen.current["id"]))
        await pilot.press(key)
        await pilot.pause(0.05)
    return rated


async def test_rating_three_samples_stores_exactly_those_three(
    daemon: Daemon, tmp_path: Path
) -> None:
    app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state", undo_window_s=0.2)
    async with app.run_test(size=(120, 40)) as pilot, daemon.client() as client:
        rated = await rate_shown_samples(app, pilot, ["4", "2", "5"])

        async def three_stored() -> bool:
            return len(await client.ratings()) >= 3

        await until(three_stored, pilot, 20, "three ratings in the daemon's store")
        await pilot.pause(0.5)  # a doubled send would have arrived by now
        stored = await client.ratings()
        assert sorted((r.sample_id, r.score) for r in stored) == sorted(
            zip(rated, [4, 2, 5], strict=True)
        )
        assert app.desk.session_acked == 3
        assert app.desk.queued == 0


async def test_p_pauses_the_run(daemon: Daemon, tmp_path: Path) -> None:
    app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state")
    async with app.run_test(size=(120, 40)) as pilot, daemon.client() as client:
        await until(lambda: app.model.status is not None, pilot, 60, "the first snapshot")
        await pilot.press("p")
        header = app.screen.query_one(RunHeader)
        await until(lambda: header.paused, pilot, 60, "the header to show paused")
        assert (await client.status()).state == "paused"
        await pilot.press("p")
        await until(lambda: not header.paused, pilot, 60, "the header to show running again")
        assert (await client.status()).state != "paused"


class LoopbackProxy:
    """A TCP proxy on 127.0.0.1 that the test can cut and restore on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._pipes):
            task.cancel()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.close()


@contextlib.asynccontextmanager
async def proxy_to(url: str) -> AsyncIterator[LoopbackProxy]:
    proxy = LoopbackProxy(int(url.rsplit(":", 1)[1].split("/")[0]))
    await proxy.start()
    try:
        yield proxy
    finally:
        if proxy._server is not None:
            await proxy.stop()


async def test_ratings_made_offline_arrive_once_after_reconnect_and_restart(
    daemon: Daemon, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    async with proxy_to(daemon.url) as proxy, daemon.client() as client:
        url = f"http://127.0.0.1:{proxy.port}"
        app = RlaifApp(url, daemon.token, state_dir=state, undo_window_s=0.2)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: len(app.model.samples) >= 4, pilot, 180, "samples")
            await proxy.stop()  # the connection drops
            await until(lambda: app.connection in LOST, pilot, 30, "the drop")
            online = await rate_shown_samples(app, pilot, ["1", "3"])
            await pilot.pause(1.0)
            assert app.desk.queued == 2  # kept while offline
            await proxy.start()  # back, on the same port
            await until(lambda: app.desk.queued == 0, pilot, 60, "the queue to drain")
            assert app.connection == "connected"

            await proxy.stop()  # offline again, and this time the TUI quits
            await until(lambda: app.connection in LOST, pilot, 30, "the drop")
            offline = await rate_shown_samples(app, pilot, ["5"])
            await pilot.pause(0.5)
        queue_file = next(state.glob("queue-*.jsonl"))
        assert offline[0] in queue_file.read_text()  # on disk, not only in memory

        await proxy.start()
        again = RlaifApp(url, daemon.token, state_dir=state, undo_window_s=0.2)
        async with again.run_test(size=(120, 40)) as pilot:
            await until(lambda: again.desk.queue is not None, pilot, 60, "the run's queue")
            await until(lambda: again.desk.queued == 0, pilot, 60, "the old queue to drain")
            await pilot.pause(0.5)

        stored = await client.ratings()
        assert sorted(r.sample_id or "" for r in stored) == sorted(online + offline)
        assert len({r.id for r in stored}) == len(stored) == 3
        assert queue_file.read_text() == ""


async def test_wrong_token_shows_what_to_do(daemon: Daemon, tmp_path: Path) -> None:
    app = RlaifApp(daemon.url, "not-the-token", state_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app.connection == "unauthorized", pilot, 30, "the 401")
        await pilot.pause(0.2)
        text = str(app.screen.query_one("#connection-text").render())
    assert "rejected the token" in text
    assert "rlaif-tui --run" in text
    assert json.loads((daemon.run_dir / "daemon.json").read_text())["url"] == daemon.url
    assert os.stat(daemon.run_dir / "token").st_mode & 0o077 == 0
