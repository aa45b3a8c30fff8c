"""The Trainer: one object that `rlaif train` and the daemon drive step by step.

A step is rollout -> score -> advantages -> loss -> optimizer (each phase a function in its own
module). Scoring runs in the sandbox while the reference and policy forwards run here; the
step blocks on rewards only for what is left (`time/reward_wait_share`). Between steps the
owner may checkpoint, change live settings or add ratings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rlaif_tui.algos.kl import AdaptiveKLController, FixedKLController
from rlaif_tui.api.models import RatingIn, SettingsPatch
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import Problem
from rlaif_tui.distributed import DistContext, current
from rlaif_tui.distributed.ddp import wrap_policy
from rlaif_tui.distributed.gather import gather_samples, split_cpu_threads
from rlaif_tui.distributed.reduce import reduce_metrics
from rlaif_tui.distributed.support import check_config
from rlaif_tui.models import checkpoint as ckpt
from rlaif_tui.models.context import fit_to_context
from rlaif_tui.models.param_groups import param_groups
from rlaif_tui.models.policy import Policy, load_policy, save_policy
from rlaif_tui.models.sharpness import Sharpness
from rlaif_tui.scoring.sources import RewardSource
from rlaif_tui.scoring.sources.build import build_sources
from rlaif_tui.scoring.stage import ScoringStage
from rlaif_tui.train import dpo_online, reporters
from rlaif_tui.train.collect import collect
from rlaif_tui.train.control import attach_control, step_control
from rlaif_tui.train.curriculum import ProblemSampler, training_problems
from rlaif_tui.train.evaluate import InTrainingEval
from rlaif_tui.train.run_dir import RunDir
from rlaif_tui.train.state import Hooks, StepResult, TrainerState, stored_rating
from rlaif_tui.train.update import lr_lambda, trainer_update

__all__ = ["Hooks", "StepResult", "Trainer", "TrainerState"]
"""`Hooks`, `StepResult` and `TrainerState` live in `train.state`; importable from here too."""


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        run: RunDir,
        policy: Policy,
        problems: list[Problem],
        sources: Sequence[RewardSource],
        hooks: Hooks | None = None,
        feedback: ScoringStage | None = None,
    ) -> None:
        self.cfg = cfg
        self.run = run
        self.policy = policy
        self.problems = problems
        self.sources = list(sources)
        self.hooks = hooks or Hooks()
        self.scoring = feedback or ScoringStage.from_config(cfg, self.sources, self._log)
        """Judge/RM/style sources, human ratings, tripwires and penalties (issue 6)."""
        self.weights = dict(cfg.reward.weights)
        self.temperature = cfg.rollout.temperature
        self.step_count = 0
        self.phase = "idle"
        self.ratings: dict[str, RatingIn] = {}
        self.sampler = ProblemSampler(
            len(problems),
            cfg.rollout.prompts_per_step,
            cfg.run.seed,
            cfg.curriculum,
            sequential=cfg.data.order == "sequential",
        )
        self.kl_ctl: AdaptiveKLController | FixedKLController = (
            AdaptiveKLController(cfg.kl.coef, cfg.kl.target, cfg.kl.horizon)
            if cfg.kl.adaptive
            else FixedKLController(cfg.kl.coef)
        )
        o = cfg.optim
        groups = param_groups(
            policy.model, policy.trainable_parameters(), o.lr, o.embedding_lr_scale
        )
        self.sharpness: Sharpness | None = None
        """The learned logit scale (`optim.sharpness_lr`; none in an lr-0 run)."""
        if o.sharpness_lr > 0 and o.lr > 0:
            self.sharpness = Sharpness(policy.model)
            groups.append(
                {
                    "params": [self.sharpness.log_scale],
                    "lr": o.sharpness_lr,
                    "weight_decay": 0.0,
                    "name": "sharpness",
                }
            )
        self.optimizer = torch.optim.AdamW(
            groups, lr=o.lr, betas=o.betas, eps=o.eps, weight_decay=o.weight_decay
        )
        if self.sharpness is not None:
            self.sharpness.attach(self.optimizer)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(cfg))
        self.evaluation = InTrainingEval(cfg)
        """The in-training evaluation (`eval.every`); its problems are set by `from_config`."""
        self.dist: DistContext = current()
        """This process's rank (world size 1 unless started by torchrun / accelerate)."""
        self.twin: Trainer | None = None
        """The matched lr-0 control stepped after each step (`run.control`, `train.control`)."""
        self.owns_sources = True
        """False for a control twin: its reward sources are its leader's to close."""

    # ----- construction -------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        cfg: TrainConfig,
        run_dir: Path | str,
        resume: bool = False,
        hooks: Hooks | None = None,
        *,
        sources: Sequence[RewardSource] | None = None,
        executor: Any = None,
    ) -> Trainer:
        """Set up a run in `run_dir` (or continue the one there with `resume=True`).

        `sources` replaces the reward sources built from `cfg.reward`; `executor` is the
        sandbox the execution source uses (default: a new `rlaif_tui.reward.Executor`).
        """
        ctx = current()
        check_config(cfg, ctx)
        run = RunDir(Path(run_dir), report_to=reporters.report_to(cfg))
        if ctx.is_main:  # a missing tracker fails now, not after the warm start
            reporters.check_installed(run.report_to)
        latest = ckpt.latest_checkpoint(run.checkpoints) if resume else None
        if resume and not run.path.exists():
            raise FileNotFoundError(f"--resume {run.path}: no such run directory")
        if ctx.is_main:  # one writer of the run directory (all ranks read checkpoints)
            run.create(cfg)
        problems = training_problems(cfg)
        need_ref = cfg.kl.coef > 0 or cfg.kl.adaptive or cfg.algorithm == "dpo"
        progress = hooks.on_progress if hooks is not None else None
        if progress is not None:
            progress("loading model", None, None)
        with ctx.local_main_first():  # one process per machine builds a warm-start cache
            policy = load_policy(
                cfg.model.model_copy(
                    update={"value_head": cfg.model.value_head or cfg.algorithm == "ppo"}
                ),
                problems,
                need_reference=need_ref,
                init_from=latest,
                on_progress=progress,
            )
        problems, cfg = fit_to_context(cfg, policy, problems)
        split_cpu_threads(ctx, cfg, policy.device)
        wrap_policy(policy, ctx)
        log = hooks.on_log if hooks is not None else None
        if sources is None:
            if progress is not None:
                progress("starting sandbox", None, None)
            sources = build_sources(cfg, executor, log)
        feedback = ScoringStage.from_config(cfg, sources, log)
        trainer = cls(cfg, run, policy, problems, sources, hooks, feedback)
        for source in trainer.sources:
            source.load_cache(run.path / "reward_cache.bin")
        sandbox = trainer.sandbox
        run_jobs = sandbox.run if sandbox is not None else None
        if cfg.teacher.enabled and run_jobs is not None:
            feedback.attach_teacher(cfg, run_jobs, run.path)
            assert feedback.teacher is not None
            feedback.teacher.register(problems)
        trainer.evaluation = InTrainingEval.from_config(cfg)
        if latest is not None:
            trainer._restore(ckpt.read_state(latest))
            if ctx.is_main:
                run.truncate_after(trainer.step_count)
            trainer._log("info", f"resumed from {latest} at step {trainer.step_count}")
        elif resume and ctx.is_main:
            run.truncate_after(0)
            trainer._log("warning", f"{run.path}: no complete checkpoint; starting at step 0")
        if cfg.run.control:
            attach_control(trainer, resume)
        return trainer

    # ----- public API ---------------------------------------------------------------------

    @property
    def state(self) -> TrainerState:
        ex = self.sandbox
        return TrainerState(
            step=self.step_count,
            total_steps=self.cfg.run.steps,
            phase=self.phase,
            algorithm=self.cfg.algorithm,
            model=self.cfg.model.name,
            device=str(self.policy.device),
            isolation=str(getattr(ex, "isolation", "unknown")),
        )

    @property
    def sandbox(self) -> Any:
        """The executor of the first source that has one (the execution source), else None."""
        return next((s.executor for s in self.sources if s.executor is not None), None)

    @property
    def heldout(self) -> list[Problem]:
        """Problems of the in-training evaluation (`eval.every`)."""
        return self.evaluation.problems

    @property
    def done(self) -> bool:
        return self.step_count >= self.cfg.run.steps

    def step(self) -> StepResult:
        """Run one step (one rollout batch and its update); returns its metrics and samples."""
        step = self.step_count + 1
        t0 = time.perf_counter()
        self._sync_live_settings()
        batch = collect(self, step)
        groups = self.dist.slots(len(batch.problems))
        batch.scored = self.scoring.finalize(
            batch.problems,
            batch.group_size,
            batch.programs,
            batch.scored,
            self.weights,
            lambda scored: batch.records(step, groups, scored),
            publish=self.hooks.on_samples,
        )
        self._set_phase("training")
        t_train = time.perf_counter()
        update = (
            dpo_online.online_update(self, batch)
            if self.cfg.algorithm == "dpo"
            else trainer_update(self, batch, step)
        )
        metrics, advantages = update.metrics, update.advantages
        batch.timings["time/train_s"] = (
            time.perf_counter() - t_train + batch.timings.pop("_forward_s", 0.0)
        )
        self.step_count = step
        metrics.update(batch.step_metrics(time.perf_counter() - t0))
        metrics["lr"] = float(self.scheduler.get_last_lr()[0])
        if self.sharpness is not None:
            metrics["policy/sharpness"] = self.sharpness.total
        samples = batch.records(step, groups, batch.scored, advantages)
        self.scoring.after_step(samples, step)
        metrics.update(self.scoring.metrics())
        metrics = reduce_metrics(self.dist, metrics, batch.rollout.n, update.summed, update.same)
        metrics.update(step_control(self))
        samples = gather_samples(self.dist, samples)
        every = self.cfg.eval.every
        if every and (step % every == 0 or self.done):
            # Every rank evaluates (same seeded draws, same answer) so metrics stay equal.
            metrics.update(self.evaluate())
        if self.dist.is_main:
            self.run.log_metrics(step, metrics)
            keep = self.cfg.run.samples_per_step
            self.run.log_samples(samples if keep is None else samples[:keep])
            if self.hooks.on_metrics:
                self.hooks.on_metrics(step, metrics)
            if self.hooks.on_samples:
                self.hooks.on_samples(samples)
        every = self.cfg.run.checkpoint_every
        if (every and step % every == 0) or (self.done and self.cfg.run.save_final):
            self.save_checkpoint()
            self.dist.barrier()  # no rank runs ahead of a checkpoint being written
        self._set_phase("done" if self.done else "idle")
        return StepResult(step, metrics, samples)

    def save_checkpoint(self) -> Path:
        """Write `checkpoints/step-NNNNNN` and point `checkpoints/latest` at it (rank 0 only:
        every rank holds the same weights and optimizer state)."""
        if not self.dist.is_main:
            return ckpt.step_dir(self.run.checkpoints, self.step_count)
        self._set_phase("checkpointing")
        state = {
            "step": self.step_count,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": ckpt.rng_state(),
            "sampler": self.sampler.state_dict(),
            "kl": self.kl_ctl.state_dict(),
            "sharpness": None if self.sharpness is None else self.sharpness.total,
            "settings": {"reward_weights": self.weights, "temperature": self.temperature},
            "ratings": [r.model_dump() for r in self.ratings.values()],
            "feedback": self.scoring.state_dict(),
            "config_digest": self._config_digest(),
        }
        for source in self.sources:
            source.save_cache(self.run.path / "reward_cache.bin")
        path = ckpt.write_checkpoint(
            self.run.checkpoints,
            self.step_count,
            lambda p: save_policy(self.policy, p),
            state,
            self.cfg.run.keep_checkpoints,
        )
        if self.twin is not None:
            self.twin.save_checkpoint()
        self._set_phase("done" if self.done else "idle")
        return path

    def check_settings(self, patch: SettingsPatch) -> None:
        """Raise `api.models.SettingsError` if this run cannot take `patch` (`SettingsPatch.check`
        holds the rules; the daemon calls this before queueing a change)."""
        patch.check(
            sources={s.name for s in self.sources} | self.scoring.source_names,
            has_reference=self.policy.has_reference,
            adaptive_kl=isinstance(self.kl_ctl, AdaptiveKLController),
        )

    def apply_settings(self, patch: SettingsPatch) -> None:
        """Change live settings from the next step on; journalled in settings.jsonl."""
        self.check_settings(patch)
        if patch.kl_coef is not None:
            self.kl_ctl.coef = patch.kl_coef
        if patch.kl_target is not None and isinstance(self.kl_ctl, AdaptiveKLController):
            self.kl_ctl.target = patch.kl_target
        if patch.reward_weights is not None:
            self.weights.update(patch.reward_weights)
        if patch.temperature is not None:
            self.temperature = patch.temperature
        self.run.log_settings(self.step_count, patch.model_dump(exclude_none=True))

    def add_ratings(self, ratings: Sequence[RatingIn]) -> int:
        """Store human ratings (idempotent on `id`); returns how many were new. The daemon's
        stored `Rating`s are passed as they are."""
        new = [r for r in ratings if r.id not in self.ratings]
        for r in new:
            self.ratings[r.id] = r
        # early ones adjust their group's reward, late ones become pairs, some confirm flags
        self.scoring.add_ratings(new)
        return len(new)

    def evaluate(self) -> dict[str, float]:
        """Held-out pass@k of the current weights (`eval` config; `eval/...` metric keys)."""
        self._set_phase("evaluating")
        return self.evaluation.metrics(self.policy, self.sandbox)

    def close(self) -> None:
        self.evaluation.close()
        if self.twin is not None:
            self.twin.close()
        self.scoring.close()
        if self.owns_sources:
            for source in self.sources:
                source.close()
        self.run.close()

    # ----- state --------------------------------------------------------------------------

    def _restore(self, state: dict[str, Any]) -> None:
        digest = state.get("config_digest")
        if digest and digest != self._config_digest():
            self._log("warning", "the config differs from the checkpoint's; continuing with it")
        self.step_count = int(state["step"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        ckpt.set_rng_state(state["rng"])
        self.sampler.load_state_dict(state["sampler"])
        self.kl_ctl.load_state_dict(state["kl"])
        if self.sharpness is not None and state.get("sharpness") is not None:
            self.sharpness.total = float(state["sharpness"])
        settings = state.get("settings", {})
        self.weights.update(settings.get("reward_weights", {}))
        self.temperature = float(settings.get("temperature", self.temperature))
        for r in state.get("ratings", []):
            rating = stored_rating(r)
            self.ratings[rating.id] = rating
        self.scoring.load_state_dict(state.get("feedback", {}))

    def _config_digest(self) -> str:
        dump = self.cfg.model_dump_json(exclude={"run": {"steps"}})
        return hashlib.sha256(dump.encode()).hexdigest()[:16]

    def _sync_live_settings(self) -> None:
        """Ranks take rank 0's live settings (the daemon, served by rank 0, changes them)."""
        if not self.dist.enabled:
            return
        mine = (dict(self.weights), self.temperature, self.kl_ctl.coef)
        weights, temperature, coef = self.dist.all_gather(mine)[0]
        self.weights.update(weights)
        self.temperature = temperature
        self.kl_ctl.coef = coef

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        if self.hooks.on_phase:
            self.hooks.on_phase(phase)

    def _log(self, level: str, message: str) -> None:
        if self.hooks.on_log:
            self.hooks.on_log(level, message)
