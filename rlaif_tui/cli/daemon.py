"""`rlaif daemon`: the training run as a service (HTTP + websocket API, docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from rlaif_tui.cli.train import (
    QUICKSTART,
    AlgorithmOption,
    ConfigOption,
    ResumeOption,
    RunDirOption,
    SetOption,
    StepsOption,
    resolve_run,
)


def daemon_command(
    config: ConfigOption = QUICKSTART,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; anything but loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port (0: any free port). Default 8765; with --resume, the run's previous "
            "port when it is free.",
        ),
    ] = None,
    run_dir: RunDirOption = None,
    resume: ResumeOption = None,
    overrides: SetOption = None,
    steps: StepsOption = None,
    algorithm: AlgorithmOption = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Bearer token to require (default: $RLAIF_TOKEN or new)."),
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="Read the bearer token from this file.")
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")
    ] = None,
    paused: Annotated[
        bool, typer.Option("--paused", help="Start with training paused (resume via the API).")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A host name clients may use besides loopback names (repeatable; * for any).",
        ),
    ] = None,
    request_timeout: Annotated[
        float,
        typer.Option(
            "--request-timeout",
            min=0.5,
            help="Seconds a request's headers or body may take, and an idle connection stays.",
        ),
    ] = 10.0,
    max_connections_per_ip: Annotated[
        int,
        typer.Option(
            "--max-connections-per-ip",
            min=1,
            help="Open connections (websockets included) one peer address may hold.",
        ),
    ] = 256,
) -> None:
    """Serve a training run: status, metrics, samples, ratings, control, live events.

    Writes `token` (mode 0600) and `daemon.json` ({"url", "pid", "started_at"}) into the run
    directory. SIGTERM/SIGINT: finish the step, checkpoint, close clients.
    """
    from rlaif_tui.daemon.auth import TokenError, choose_token, is_loopback

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        typer.echo(
            "error: rlaif daemon runs one process; under torchrun/accelerate use `rlaif train` "
            "(serving rank 0 of a multi-rank run is not supported yet)",
            err=True,
        )
        raise typer.Exit(2)

    try:
        given = choose_token(token, token_file, os.environ.get("RLAIF_TOKEN"))
    except TokenError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not is_loopback(host) and given is None:
        typer.echo(
            f"error: --host {host} is not a loopback address: anyone who can reach it could "
            "steer the run, so give the token clients must send (--token-file FILE, --token, or "
            "RLAIF_TOKEN), preferably with --tls-cert/--tls-key; or keep 127.0.0.1 and use an "
            "SSH tunnel (ssh -L 8765:127.0.0.1:8765 server)",
            err=True,
        )
        raise typer.Exit(2)
    cfg, target = resolve_run(config, overrides, run_dir, resume, steps, algorithm)
    if cfg.algorithm == "dpo" and cfg.dpo.pairs is not None:
        typer.echo(
            "error: offline DPO (dpo.pairs) runs with `rlaif train`, not the daemon", err=True
        )
        raise typer.Exit(2)
    if resume is not None and not resume.is_dir():
        typer.echo(f"error: --resume {resume}: no such run directory", err=True)
        raise typer.Exit(2)
    from rlaif_tui.cli.errors import require
    from rlaif_tui.cli.quiet import quiet_transformers
    from rlaif_tui.daemon.main import DEFAULT_PORT, Options, serve

    require("torch", "transformers", "peft")  # the train extra, checked before serving
    from rlaif_tui.train.run_dir import RunDirBusy

    quiet_transformers()
    options = Options(
        host=host,
        port=DEFAULT_PORT if port is None else port,
        token=given,
        tls_cert=tls_cert,
        tls_key=tls_key,
        paused=paused,
        allowed_hosts=tuple(allowed_host or ()),
        request_timeout_s=request_timeout,
        max_connections_per_ip=max_connections_per_ip,
        prefer_previous_port=port is None and resume is not None,
    )
    try:
        code = serve(cfg, target, resume is not None, options)
    except (ValueError, RunDirBusy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)
