"""The headless loop of `rlaif train`: a rich progress bar plus one line per step."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.distributed import init_from_env
from rlaif_tui.distributed.support import check_config
from rlaif_tui.models.errors import NonFiniteError
from rlaif_tui.models.warmstart import cache_root
from rlaif_tui.train.run_dir import RunDirBusy, RunLock
from rlaif_tui.train.trainer import Hooks, Trainer

LINE_KEYS = (
    ("reward/mean", "reward", "{:.3f}"),
    ("pass/rate", "pass", "{:.2f}"),
    ("kl/mean", "kl", "{:.4f}"),
    ("loss/total", "loss", "{:+.4f}"),
    ("groups/zero_variance", "zero-var", "{:.2f}"),
    ("time/step_s", "s/step", "{:.2f}"),
    ("time/reward_wait_share", "wait", "{:.0%}"),
)


def format_line(step: int, total: int, metrics: dict[str, float]) -> str:
    parts = [f"step {step}/{total}"]
    for key, label, fmt in LINE_KEYS:
        if key in metrics:
            parts.append(f"{label} {fmt.format(metrics[key])}")
    return "  ".join(parts)


def train(cfg: TrainConfig, run_dir: Path, *, resume: bool = False) -> int:
    """Run (or resume) training to `cfg.run.steps`; returns a process exit code.

    Started by torchrun or `accelerate launch`, every rank runs this; rank 0 alone prints and
    writes the run directory (`rlaif_tui.distributed`).
    """
    try:
        ctx = init_from_env()
    except (RuntimeError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        return 2
    try:
        check_config(cfg, ctx)
    except ValueError as exc:
        Console(stderr=True, quiet=not ctx.is_main).print(
            f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True
        )
        ctx.close()
        return 2
    lock = RunLock(run_dir, "rlaif train")
    try:
        if ctx.is_main:  # rank 0 alone writes the run directory
            lock.acquire()
        return _train(cfg, run_dir, resume, quiet=not ctx.is_main)
    except RunDirBusy as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    finally:
        lock.release()
        ctx.close()


def _train(cfg: TrainConfig, run_dir: Path, resume: bool, *, quiet: bool) -> int:
    console = Console(stderr=True, quiet=quiet)
    if cfg.algorithm == "dpo" and cfg.dpo.pairs is not None:
        from rlaif_tui.train.dpo_run import run_offline_dpo

        console.print(f"run directory: {escape(str(run_dir))}", soft_wrap=True)
        run_offline_dpo(cfg, run_dir, echo=lambda line: print(line, flush=True))
        return 0
    hooks = Hooks(
        on_log=lambda level, msg: console.print(escape(f"[{level}] {msg}"), soft_wrap=True)
    )
    console.print(f"run directory: {escape(str(run_dir))}", soft_wrap=True)
    if cfg.model.source == "tiny" and cfg.model.warm_start.steps and not resume:
        console.print(
            f"warm start: {cfg.model.warm_start.steps} supervised steps on the first start "
            f"(minutes on a CPU), then cached in {escape(str(cache_root() / 'quickstart'))}",
            soft_wrap=True,
        )
    try:
        trainer = Trainer.from_config(cfg, run_dir, resume=resume, hooks=hooks)
    except (OSError, RuntimeError, ValueError) as exc:  # bad set-up: say what, no traceback
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        return 2
    console.print(
        f"{cfg.algorithm} on {trainer.state.model} ({trainer.state.device}), "
        f"{len(trainer.problems)} problems, step {trainer.step_count}/{cfg.run.steps}"
    )
    code = 0
    try:
        with Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("steps", total=cfg.run.steps, completed=trainer.step_count)
            while not trainer.done:
                result = trainer.step()
                progress.update(task, completed=result.step)
                if not quiet:
                    print(format_line(result.step, cfg.run.steps, result.metrics), flush=True)
    except NonFiniteError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        code = 3
    except KeyboardInterrupt:
        console.print("interrupted: saving a checkpoint")
        trainer.save_checkpoint()
        code = 130
    finally:
        trainer.close()
    if code == 0:
        console.print(
            f"done: {trainer.step_count} steps; checkpoints in "
            f"{escape(str(run_dir / 'checkpoints'))}",
            soft_wrap=True,
        )
    sys.stdout.flush()
    return code
