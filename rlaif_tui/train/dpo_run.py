"""`rlaif train --algorithm dpo` with `dpo.pairs`: offline DPO over a preference file.

The policy and its reference come from `models.policy.load_policy` exactly as in the RL loop
(LoRA: adapters disabled; full fine-tuning: a frozen copy). Metrics go to the run directory
every step (`loss/policy`, `dpo/reward_margin`, `dpo/accuracy`, ...); the held-out margin before
and after is logged with the last step and printed. The final weights are a normal checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import load_problems
from rlaif_tui.feedback.pairs import load_pairs
from rlaif_tui.feedback.reward_model import split_pairs
from rlaif_tui.models import checkpoint as ckpt
from rlaif_tui.models.policy import load_policy, save_policy
from rlaif_tui.train.dpo import DPOReport, fit_offline
from rlaif_tui.train.reporters import check_installed, report_to
from rlaif_tui.train.run_dir import RunDir
from rlaif_tui.train.update import lr_lambda


def run_offline_dpo(
    cfg: TrainConfig, run_dir: Path, *, echo: Callable[[str], None] = print
) -> DPOReport:
    if cfg.dpo.pairs is None:
        raise ValueError("offline DPO needs dpo.pairs (a preference JSONL)")
    pairs = load_pairs(cfg.dpo.pairs)
    train, heldout = split_pairs(pairs, cfg.dpo.heldout_fraction, cfg.run.seed)
    run = RunDir(run_dir, report_to=report_to(cfg))
    check_installed(run.report_to)
    run.create(cfg)
    policy = load_policy(cfg.model, load_problems(cfg.data.problems), need_reference=True)
    o = cfg.optim
    optimizer = torch.optim.AdamW(
        policy.trainable_parameters(),
        lr=o.lr,
        betas=o.betas,
        eps=o.eps,
        weight_decay=o.weight_decay,
    )
    total = cfg.dpo.epochs * -(-len(train) // cfg.dpo.batch_size)
    schedule = cfg.model_copy(update={"run": cfg.run.model_copy(update={"steps": total})})
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(schedule))
    echo(
        f"offline DPO ({cfg.dpo.loss_type}): {len(train)} pairs, {len(heldout)} held out, "
        f"{total} steps"
    )

    def on_step(step: int, metrics: dict[str, float]) -> None:
        run.log_metrics(step, {**metrics, "lr": float(scheduler.get_last_lr()[0])})
        if step % 10 == 0 or step == total:
            echo(
                f"step {step}/{total}  loss {metrics['loss/policy']:.4f}  "
                f"margin {metrics['dpo/reward_margin']:+.3f}"
            )

    try:
        report = fit_offline(
            policy.model,
            policy.tokenizer,
            policy.reference,
            train,
            heldout,
            cfg.dpo,
            optimizer,
            seed=cfg.run.seed,
            on_step=on_step,
            scheduler=scheduler,
        )
        run.log_metrics(report.steps, report.metrics())
        ckpt.write_checkpoint(
            run.checkpoints,
            report.steps,
            lambda p: save_policy(policy, p),
            {"step": report.steps, "algorithm": "dpo", "report": report.metrics()},
            cfg.run.keep_checkpoints,
        )
    finally:
        run.close()
    if report.before is not None and report.after is not None:
        echo(
            f"held-out log-prob margin {report.before.logp_margin:+.3f} -> "
            f"{report.after.logp_margin:+.3f}; pair accuracy {report.before.accuracy:.2f} -> "
            f"{report.after.accuracy:.2f}"
        )
    return report
