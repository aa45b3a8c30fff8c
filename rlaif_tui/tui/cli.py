"""`rlaif-tui [--url URL] [--token T] [--run DIR] [--demo]`: find the daemon, run the app.

argparse rather than Typer: this is the whole command line, and it keeps start-up light.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rlaif_tui.tui.discover import (
    QUICKSTART_CONFIG,
    DemoDaemon,
    Target,
    TargetError,
    command_path,
    find_local,
    read_run_dir,
    shown_path,
)
from rlaif_tui.tui.hangup import EndingSignals


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="rlaif-tui",
        description="Watch, rate and steer an `rlaif daemon` run from the terminal.",
        epilog="With no options: the newest live daemon under ./runs, or an offer to start one.",
    )
    parser.add_argument("--url", help="daemon URL, e.g. http://127.0.0.1:8765")
    parser.add_argument("--token", help="bearer token (default: $RLAIF_TOKEN)")
    parser.add_argument("--run", type=Path, help="run directory: read daemon.json and token")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start `rlaif daemon --config quickstart` in a fresh run dir and connect",
    )
    parser.add_argument("--rater", help="name stored with your ratings (default: your login)")
    parser.add_argument("--runs-root", type=Path, default=Path("runs"), help=argparse.SUPPRESS)
    # The demo's config, for tests that need a daemon up in seconds (configs/smoke.yaml).
    parser.add_argument(
        "--demo-config", type=Path, default=QUICKSTART_CONFIG, help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    from rlaif_tui.tui.app import RlaifApp

    url, token = args.url, args.token or os.environ.get("RLAIF_TOKEN")
    demo: DemoDaemon | None = None
    target: Target | None = None
    try:
        if args.run is not None:
            target = read_run_dir(args.run)
            url, token = url or target.url, token or target.token
        elif args.demo:
            demo = DemoDaemon(config=args.demo_config, runs_root=args.runs_root)
        elif url is None:
            target = find_local(args.runs_root)
            if target is not None:
                url, token = target.url, target.token
    except TargetError as exc:
        sys.exit(f"rlaif-tui: {exc}")
    app = RlaifApp(
        url, token, rater=args.rater, demo=demo, can_start_demo=url is None, target=target
    )
    with EndingSignals(app) as ending:  # SIGHUP/SIGTERM: exit the app, reach the finally
        try:
            app.run()
        finally:
            ending.stopping()
            if app.demo is not None and app.demo.running:
                if app.keep_demo:
                    again = f"{command_path('rlaif-tui')} --run {shown_path(app.demo.run_dir)}"
                    print(f"demo daemon still running; reconnect with: {again}")
                else:
                    app.demo.stop()
    if ending.exit_code is not None:
        sys.exit(ending.exit_code)
    if app.return_code:
        sys.exit(app.return_code)
