"""Running the daemon: bind, write `daemon.json` and `token`, train, stop cleanly on a signal.

SIGTERM or SIGINT stops gracefully: the step in progress finishes, a checkpoint is written,
websocket clients are closed with GOING_AWAY, `daemon.json` is removed and `daemon.last.json`
records the exit (url, pid, exit code, last step). A second signal
abandons the step in progress: the process exits at once, keeping the last checkpoint (ratings
are already on disk).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.daemon.auth import allowed_hosts, new_token, write_token
from rlaif_tui.daemon.errors import body_timeout_key
from rlaif_tui.daemon.guard import (
    LINGER_S,
    MAX_CONNECTIONS_PER_IP,
    REQUEST_TIMEOUT_S,
    CappedSite,
)
from rlaif_tui.daemon.hub import TICK_S, EventHub
from rlaif_tui.daemon.runner import Runner
from rlaif_tui.daemon.server import Daemon, make_app
from rlaif_tui.daemon.store import RatingsStore
from rlaif_tui.daemon.stream import close_sockets
from rlaif_tui.train.run_dir import RunLock

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Hooks, Trainer

log = logging.getLogger("rlaif.daemon")

DEFAULT_PORT = 8765


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    """The token to require; None generates one (or keeps the run's existing `token`)."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    paused: bool = False
    """Start with training paused (resume through the API)."""
    queue_limit: int = 256
    """Frames a websocket client may fall behind before it is dropped."""
    event_tick_s: float = TICK_S
    """How long events gather before they go out together (one write per client per tick)."""
    request_timeout_s: float = REQUEST_TIMEOUT_S
    """Bound on a request's headers, its body, and an idle keep-alive connection."""
    max_connections_per_ip: int = MAX_CONNECTIONS_PER_IP
    allowed_hosts: tuple[str, ...] = ()
    """Host names besides loopback that `Host`/`Origin` may carry (`--allowed-host`)."""
    prefer_previous_port: bool = False
    """Try the port of the run's previous daemon first (`--resume` without `--port`), so
    clients that knew its address find the new one there."""


def run_token(run_dir: Path, given: str | None, resume: bool) -> str:
    """The token in force: the one given, the run's own on `--resume`, or a new one."""
    path = run_dir / "token"
    if given is not None:
        token = given
    elif resume and path.exists():
        token = path.read_text(encoding="utf-8").strip() or new_token()
    else:
        token = new_token()
    write_token(path, token)
    return token


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"--tls-cert {cert} / --tls-key {key}: {exc}") from None
    return context


def write_info(run_dir: Path, url: str, started_at: float) -> Path:
    path = run_dir / "daemon.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "started_at": started_at}) + "\n")
    os.replace(tmp, path)
    return path


def private_run_dir(run_dir: Path) -> None:
    """The run directory readable by its owner only: 0700, and what this process creates in
    it 0600 (umask), so on a shared server other users see neither ratings nor samples."""
    os.umask(0o077)
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir, 0o700)
    for path in run_dir.iterdir():  # a resumed run's files from before
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o600)


def clear_stale_info(run_dir: Path) -> None:
    """Remove a `daemon.json` left by a daemon that died without cleaning up. Called with
    the run lock held, so whoever wrote it is gone."""
    path = run_dir / "daemon.json"
    try:
        pid = json.loads(path.read_text(encoding="utf-8")).get("pid")
    except FileNotFoundError:
        return
    except (OSError, ValueError, AttributeError):
        pid = None
    log.warning("replacing a stale %s (pid %s is not running)", path, pid)
    path.unlink(missing_ok=True)


def previous_port(run_dir: Path) -> int | None:
    """The port of the run's last daemon: `daemon.json` (left by a kill) or `daemon.last.json`."""
    for name in ("daemon.json", "daemon.last.json"):
        try:
            url = str(json.loads((run_dir / name).read_text(encoding="utf-8"))["url"])
            return int(url.rsplit(":", 1)[1].split("/")[0])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
    return None


def write_last_exit(run_dir: Path, url: str, started_at: float, code: int, step: int) -> None:
    """`daemon.last.json`: how the daemon ended, for clients that find it gone."""
    path = run_dir / "daemon.last.json"
    tmp = path.with_suffix(".json.tmp")
    record = {
        "url": url,
        "pid": os.getpid(),
        "started_at": started_at,
        "exited_at": time.time(),
        "code": code,
        "step": step,
    }
    tmp.write_text(json.dumps(record) + "\n")
    os.replace(tmp, path)


def serve(cfg: TrainConfig, run_dir: Path, resume: bool, options: Options) -> int:
    """Run the daemon until a signal; returns the process exit code.

    Raises `RunDirBusy` if another process holds the run directory."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    context = tls_context(options.tls_cert, options.tls_key)
    private_run_dir(run_dir)
    with RunLock(run_dir, "rlaif daemon"):  # before anything in the run dir is written
        clear_stale_info(run_dir)
        token = run_token(run_dir, options.token, resume)
        return asyncio.run(_serve(cfg, run_dir, resume, options, token, context))


@dataclass
class Running:
    """A daemon serving in this process: what `serve` and `rlaif bench daemon` hold."""

    url: str
    runner: Runner
    hub: EventHub
    store: RatingsStore
    app: web.Application
    web_runner: web.AppRunner
    store_thread: ThreadPoolExecutor

    async def close(self) -> None:
        """Stop training (finish the step, checkpoint), close clients, stop serving."""
        self.runner.request_stop()
        await asyncio.to_thread(self.runner.join)  # the loop keeps serving meanwhile
        self.runner.publish_status()
        await asyncio.sleep(0)  # let the last status frame reach the queues
        await close_sockets(self.app)  # GOING_AWAY, before aiohttp waits on the handlers
        await self.web_runner.cleanup()
        self.store_thread.shutdown(wait=True)
        self.store.close()


async def start(
    cfg: TrainConfig,
    run_dir: Path,
    resume: bool,
    options: Options,
    token: str,
    context: ssl.SSLContext | None = None,
) -> Running:
    """Bind, then start the trainer's thread; raises OSError if the address is taken."""
    loop = asyncio.get_running_loop()
    store = RatingsStore(run_dir / "ratings.sqlite")
    stored = store.all()

    def build(hooks: Hooks) -> Trainer:
        from rlaif_tui.train.trainer import Trainer

        return Trainer.from_config(cfg, run_dir, resume=resume, hooks=hooks)

    hub = EventHub(
        lambda: runner.snapshot(), queue_limit=options.queue_limit, tick_s=options.event_tick_s
    )
    runner = Runner(
        cfg,
        run_dir,
        build,
        hub,
        loop,
        paused=options.paused,
        rating_count=len(stored),
        recent_ratings=stored[-500:],
        stored_ratings=store.all,
    )
    store_thread = ThreadPoolExecutor(1, thread_name_prefix="rlaif-ratings")
    daemon = Daemon(runner, hub, store, cfg.model_dump(mode="json"), store_thread)
    app = make_app(daemon, token, allowed_hosts(options.host, options.allowed_hosts))
    app[body_timeout_key] = options.request_timeout_s
    web_runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=options.request_timeout_s,
        lingering_time=LINGER_S,
    )
    await web_runner.setup()
    site = CappedSite(
        web_runner,
        options.host,
        options.port,
        per_ip=options.max_connections_per_ip,
        ssl_context=context,
    )
    try:
        await site.start()
    except OSError:
        await web_runner.cleanup()
        store.close()
        raise
    port = web_runner.addresses[0][1]
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"{'https' if context else 'http'}://{host}:{port}"
    runner.start()
    return Running(url, runner, hub, store, app, web_runner, store_thread)


async def _serve(
    cfg: TrainConfig,
    run_dir: Path,
    resume: bool,
    options: Options,
    token: str,
    context: ssl.SSLContext | None,
) -> int:
    previous = previous_port(run_dir) if options.prefer_previous_port else None
    running = None
    if previous is not None and previous != options.port:
        try:
            running = await start(
                cfg, run_dir, resume, replace(options, port=previous), token, context
            )
        except OSError as exc:
            log.info(
                "the previous port %d is taken (%s); using %d", previous, exc.strerror, options.port
            )
    if running is None:
        try:
            running = await start(cfg, run_dir, resume, options, token, context)
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", options.host, options.port, exc.strerror)
            return 2
    info = write_info(run_dir, running.url, running.runner.started_at)
    log.info("serving %s on %s (token in %s)", run_dir, running.url, run_dir / "token")
    stopping = asyncio.Event()
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("%s: finishing the step, checkpointing, closing", signal.Signals(signum).name)
            running.runner.request_stop()
            stopping.set()
        else:
            log.warning("second signal: abandoning the step; the last checkpoint stays")
            running.store.close()
            os._exit(130)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    await stopping.wait()
    await running.close()
    code = 1 if running.runner.failed else 0
    write_last_exit(run_dir, running.url, running.runner.started_at, code, running.runner.step)
    info.unlink(missing_ok=True)
    log.info("stopped at step %d", running.runner.step)
    return code
