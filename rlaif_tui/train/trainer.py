"""The Trainer: one object that `rlaif train` and the daemon drive step by step.

A step is rollout -> score -> advantages -> loss -> optimizer (each phase a function in its own
module). Scoring runs in the sandbox while the reference and policy forwards run here; the
step blocks on rewards only for what is left (`time/reward_wait_share`). Between steps the
owner may checkpoint, change live settings or add ratings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlaif_tui.algos.kl import AdaptiveKLController, FixedKLController
from rlaif_tui.config.live import Rating, Settings
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import Problem, load_problems
from rlaif_tui.distributed import DistContext, current
from rlaif_tui.distributed.ddp import wrap_policy
from rlaif_tui.distributed.gather import gather_groups, gather_samples, split_cpu_threads
from rlaif_tui.distributed.reduce import reduce_metrics, shares
from rlaif_tui.distributed.support import check_config
from rlaif_tui.feedback.repair import repair_pair, repair_prompt
from rlaif_tui.feedback.runtime import FeedbackRuntime
from rlaif_tui.models.param_groups import param_groups
from rlaif_tui.models.policy import Policy, load_policy, save_policy
from rlaif_tui.reward.sources import RewardSource, ScoreRequest
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train import checkpoint as ckpt
from rlaif_tui.train import dpo_online
from rlaif_tui.train import score as score_phase
from rlaif_tui.train.control import attach_control, step_control
from rlaif_tui.train.curriculum import ProblemSampler
from rlaif_tui.train.errors import NonFiniteError
from rlaif_tui.train.evaluate import executor_runner, heldout_metrics, heldout_problems
from rlaif_tui.train.logprobs import Forward, policy_forward, reference_logprobs
from rlaif_tui.train.program import encode_prompt, to_program
from rlaif_tui.train.records import sample_records
from rlaif_tui.train.rollout import Rollout, concat_rollouts, generate
from rlaif_tui.train.run_dir import RunDir
from rlaif_tui.train.update import (
    check_finite,
    kl_term,
    lr_lambda,
    policy_loss,
    ppo_targets,
    sequence_advantages,
)


@dataclass
class Hooks:
    """Callbacks the daemon uses to forward events; all optional."""

    on_metrics: Callable[[int, dict[str, float]], None] | None = None
    on_samples: Callable[[list[dict[str, Any]]], None] | None = None
    on_log: Callable[[str, str], None] | None = None
    """(level, message), level one of `info`, `warning`, `error`."""
    on_phase: Callable[[str], None] | None = None


@dataclass
class StepResult:
    step: int
    metrics: dict[str, float]
    samples: list[dict[str, Any]]


@dataclass
class TrainerState:
    step: int
    total_steps: int
    phase: str
    """`idle`, `generating`, `scoring`, `training`, `checkpointing` or `done`."""
    algorithm: str
    model: str
    device: str
    isolation: str


@dataclass
class _Batch:
    problems: list[Problem]
    indices: list[int]
    prompts: list[str]
    rollout: Rollout
    programs: list[str]
    scored: score_phase.Scored
    ref_logp: torch.Tensor | None
    first: Forward | None
    timings: dict[str, float] = field(default_factory=dict)


def _default_sources(cfg: TrainConfig, executor: Any) -> list[RewardSource]:
    """The reward sources named in `reward.weights` (each built once per run)."""
    sources: list[RewardSource] = []
    if "execution" in cfg.reward.weights:
        from rlaif_tui.reward.sources.execution import ExecutionSource

        sources.append(ExecutionSource(cfg.reward.execution, executor))
    if "syntax" in cfg.reward.weights:
        from rlaif_tui.reward.sources.syntax import SyntaxSource

        sources.append(SyntaxSource())
    return sources


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        run: RunDir,
        policy: Policy,
        problems: list[Problem],
        sources: Sequence[RewardSource],
        hooks: Hooks | None = None,
        feedback: FeedbackRuntime | None = None,
    ) -> None:
        self.cfg = cfg
        self.run = run
        self.policy = policy
        self.problems = problems
        self.sources = list(sources)
        self.hooks = hooks or Hooks()
        self.feedback = feedback or FeedbackRuntime.from_config(
            cfg.model_copy(update={"reward": cfg.reward.model_copy(update={"weights": {}})}),
            log=self._log,
        )
        """Judge/RM/style sources, human ratings, tripwires and penalties (issue 6)."""
        self.weights = dict(cfg.reward.weights)
        self.temperature = cfg.rollout.temperature
        self.step_count = 0
        self.phase = "idle"
        self.ratings: dict[str, Rating] = {}
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
        self.optimizer = torch.optim.AdamW(
            param_groups(policy.model, policy.trainable_parameters(), o.lr, o.embedding_lr_scale),
            lr=o.lr,
            betas=o.betas,
            eps=o.eps,
            weight_decay=o.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(cfg))
        self.heldout: list[Problem] = []
        """Problems of the in-training evaluation (`eval.every`), set by `from_config`."""
        self._eval_executor: Any = None
        self.dist: DistContext = current()
        """This process's rank (world size 1 unless started by torchrun / accelerate)."""
        self._reduce_rules: tuple[set[str], set[str]] = (set(), set())
        """Metric keys the last update made whole-batch: (summed over ranks, same on all)."""
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
        run = RunDir(Path(run_dir), tensorboard=cfg.run.tensorboard)
        latest = ckpt.latest_checkpoint(run.checkpoints) if resume else None
        if resume and not run.path.exists():
            raise FileNotFoundError(f"--resume {run.path}: no such run directory")
        if ctx.is_main:  # one writer of the run directory (all ranks read checkpoints)
            run.create(cfg)
        all_problems = load_problems(cfg.data.problems)
        problems = [p for p in all_problems if cfg.data.split in (None, p.split)]
        if cfg.data.limit:
            problems = problems[: cfg.data.limit]
        if not problems:
            raise ValueError(f"{cfg.data.problems}: no problems in split {cfg.data.split!r}")
        need_ref = cfg.kl.coef > 0 or cfg.kl.adaptive or cfg.algorithm == "dpo"
        with ctx.local_main_first():  # one process per machine builds a warm-start cache
            policy = load_policy(
                cfg.model.model_copy(
                    update={"value_head": cfg.model.value_head or cfg.algorithm == "ppo"}
                ),
                problems,
                need_reference=need_ref,
                init_from=latest,
            )
        split_cpu_threads(ctx, cfg, policy.device)
        wrap_policy(policy, ctx)
        log = hooks.on_log if hooks is not None else None
        feedback = FeedbackRuntime.from_config(cfg, log=log)
        if sources is None:
            sources = _default_sources(cfg, executor) + feedback.sources
        trainer = cls(cfg, run, policy, problems, sources, hooks, feedback)
        for source in trainer.sources:
            load = getattr(source, "load_cache", None)
            if load is not None:
                load(run.path / "reward_cache.bin")
        run_jobs = next((s.executor.run for s in sources if hasattr(s, "executor")), None)
        if cfg.teacher.enabled and run_jobs is not None:
            feedback.attach_teacher(cfg, run_jobs, run.path)
            assert feedback.teacher is not None
            feedback.teacher.register(problems)
        if cfg.eval.every:
            trainer.heldout = heldout_problems(cfg, cfg.eval.limit)
            if not trainer.heldout:
                raise ValueError(
                    f"{cfg.data.problems}: no problems in split {cfg.data.heldout_split!r} to "
                    "evaluate on; set data.heldout_split or eval.every=0"
                )
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
        ex = next((getattr(s, "executor", None) for s in self.sources), None)
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
    def done(self) -> bool:
        return self.step_count >= self.cfg.run.steps

    def step(self) -> StepResult:
        """Run one step (one rollout batch and its update); returns its metrics and samples."""
        step = self.step_count + 1
        t0 = time.perf_counter()
        self._sync_live_settings()
        batch = self._collect(step)
        batch.scored = self.feedback.finalize(
            step,
            batch.problems,
            self.cfg.rollout.group_size,
            batch.prompts,
            batch.rollout.texts,
            batch.programs,
            batch.scored,
            self.weights,
            publish=self.hooks.on_samples,
        )
        self._set_phase("training")
        t_train = time.perf_counter()
        if self.cfg.algorithm == "dpo":
            metrics, advantages = self._update_dpo(batch)
        else:
            metrics, advantages = self._update(step, batch)
        batch.timings["time/train_s"] = (
            time.perf_counter() - t_train + batch.timings.pop("_forward_s", 0.0)
        )
        self.step_count = step
        step_s = time.perf_counter() - t0
        n = batch.rollout.n
        tokens = float(batch.rollout.mask.sum())
        metrics.update(batch.timings)
        metrics.update(
            {
                "time/step_s": step_s,
                "time/reward_wait_share": batch.timings["time/reward_wait_s"] / step_s,
                "throughput/completions_per_s": n / step_s,
                "throughput/tokens_per_s": tokens / step_s,
                "completion/mean_tokens": tokens / n,
                "lr": float(self.scheduler.get_last_lr()[0]),
            }
        )
        samples = sample_records(
            step,
            batch.problems,
            self.cfg.rollout.group_size,
            batch.prompts,
            batch.rollout.texts,
            batch.programs,
            batch.scored,
            advantages,
            batch.rollout.finish,
            groups=self.dist.slots(len(batch.problems)),
        )
        self.feedback.after_step(samples, step)
        metrics.update(self.feedback.metrics())
        metrics = reduce_metrics(self.dist, metrics, n, *self._reduce_rules)
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
            "settings": {"reward_weights": self.weights, "temperature": self.temperature},
            "ratings": [r.model_dump() for r in self.ratings.values()],
            "feedback": self.feedback.state_dict(),
            "config_digest": self._config_digest(),
        }
        for source in self.sources:
            save = getattr(source, "save_cache", None)
            if save is not None:
                save(self.run.path / "reward_cache.bin")
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

    def apply_settings(self, settings: Settings) -> None:
        """Change live settings from the next step on; journalled in settings.jsonl."""
        if settings.kl_coef is not None:
            if not self.policy.has_reference and settings.kl_coef > 0:
                raise ValueError(
                    "kl_coef > 0 needs a reference model; start the run with "
                    "kl.coef > 0 (or LoRA) to change it live"
                )
            self.kl_ctl.coef = settings.kl_coef
        if settings.kl_target is not None:
            if not isinstance(self.kl_ctl, AdaptiveKLController):
                raise ValueError(
                    "kl_target applies to the adaptive controller; start the run "
                    "with kl.adaptive: true"
                )
            self.kl_ctl.target = settings.kl_target
        if settings.reward_weights is not None:
            known = {s.name for s in self.sources} | self.feedback.source_names
            unknown = set(settings.reward_weights) - known
            if unknown:
                raise ValueError(
                    f"reward_weights: unknown sources {sorted(unknown)}; "
                    f"this run has {sorted(known)}"
                )
            self.weights.update(settings.reward_weights)
        if settings.temperature is not None:
            self.temperature = settings.temperature
        self.run.log_settings(self.step_count, settings.model_dump(exclude_none=True))

    def add_ratings(self, ratings: Sequence[Rating]) -> int:
        """Store human ratings (idempotent on `Rating.id`); returns how many were new."""
        new = [r for r in ratings if r.id not in self.ratings]
        for r in new:
            self.ratings[r.id] = r
        # early ones adjust their group's reward, late ones become pairs, some confirm flags
        self.feedback.add_ratings(new)
        return len(new)

    def evaluate(self) -> dict[str, float]:
        """Held-out pass@k of the current weights (`eval` config; `eval/...` metric keys)."""
        self._set_phase("evaluating")
        found = (getattr(s, "executor", None) for s in self.sources)
        executor = next((x for x in found if x is not None), None)
        if executor is None:
            if self._eval_executor is None:
                from rlaif_tui.reward import Executor

                x = self.cfg.reward.execution
                self._eval_executor = Executor(
                    workers=x.workers,
                    timeout_s=x.timeout_s,
                    memory_mb=x.memory_mb,
                    isolation_floor=x.isolation_floor,
                )
            executor = self._eval_executor
        return heldout_metrics(self.policy, self.heldout, self.cfg, executor_runner(executor))

    def close(self) -> None:
        if self._eval_executor is not None:
            self._eval_executor.close()
            self._eval_executor = None
        if self.twin is not None:
            self.twin.close()
        self.feedback.close()
        if self.owns_sources:
            for source in self.sources:
                source.close()
        self.run.close()

    # ----- phases -------------------------------------------------------------------------

    def _prompt_ids(self, problem: Problem) -> tuple[str, list[int]]:
        return encode_prompt(
            self.policy.tokenizer,
            problem,
            chat=self.policy.use_chat_template,
            show_public_tests=self.cfg.data.show_public_tests,
            append_eos=self.cfg.data.append_eos,
        )

    def _generator(self, step: int, round_: int, slot: int = 0) -> torch.Generator:
        """Seeded by the chunk's first group's position in the step's whole batch, so a chunk
        samples the same completions whichever rank (or how many ranks) it runs on."""
        g = torch.Generator(device=self.policy.device)
        g.manual_seed(self.cfg.run.seed * 1_000_003 + step * 7_919 + round_ + slot * 104_729)
        return g

    def _rollout(
        self, step: int, round_: int, problems: list[Problem], slots: list[int] | None = None
    ) -> tuple[list[str], Rollout, list[str], score_phase.PendingChunks]:
        """Sample the groups of `problems` chunk by chunk, sending each chunk to the reward
        sources as soon as it is sampled. `slots` are the groups' positions in the step's
        whole batch (default: this rank's share, `DistContext.slots`)."""
        texts, ids = zip(*(self._prompt_ids(p) for p in problems), strict=True)
        r = self.cfg.rollout
        k = r.group_size
        chat = self.policy.use_chat_template
        self.policy.model.eval()
        slots = slots if slots is not None else self.dist.slots(len(problems))
        size = r.chunk_groups or len(problems)
        parts, programs, pending = [], [], []
        for start in range(0, len(problems), size):
            gen = self._generator(step, round_, slots[start])
            part = generate(
                self.policy.model,
                self.policy.tokenizer,
                list(ids[start : start + size]),
                k,
                max_new_tokens=r.max_new_tokens,
                temperature=self.temperature,
                top_p=r.top_p,
                stop=r.stop,
                generator=gen,
            )
            progs = [
                to_program(problems[start + i // k], c, chat=chat) for i, c in enumerate(part.texts)
            ]
            requests = [
                ScoreRequest(
                    f"s{step:06d}-r{round_}-{start * k + i:04d}",
                    problems[start + i // k],
                    texts[start + i // k],
                    c,
                    progs[i],
                )
                for i, c in enumerate(part.texts)
            ]
            pending.append(score_phase.submit(self.sources, requests, self.weights))
            parts.append(part)
            programs += progs
        rollout = concat_rollouts(parts, self._pad_id)
        return list(texts), rollout, programs, score_phase.PendingChunks(pending)

    def _collect(self, step: int) -> _Batch:
        cfg = self.cfg
        indices = self.dist.shard(self.sampler.indices(step))  # whole groups per rank
        problems = [self.problems[i] for i in indices]
        self._set_phase("generating")
        t0 = time.perf_counter()
        prompts, rollout, programs, pending = self._rollout(step, 0, problems)
        gen_s = time.perf_counter() - t0
        self._set_phase("scoring")
        beta_needed = self.policy.has_reference
        single = cfg.grpo.inner_epochs == 1 and cfg.grpo.minibatches == 1
        if cfg.grpo.dynamic_sampling or cfg.repair.enabled:
            scored = pending.wait()
            wait_s = scored.wait_s
            if cfg.repair.enabled:
                t1 = time.perf_counter()
                have = (problems, indices, prompts, rollout, programs, scored)
                (problems, indices, prompts, rollout, programs, scored), s_wait = self._repair(
                    step, have
                )
                gen_s += time.perf_counter() - t1 - s_wait
                wait_s += s_wait
            rounds = cfg.grpo.max_resample_rounds if cfg.grpo.dynamic_sampling else 0
            for round_ in range(1, rounds + 1):
                zero = adv_math.zero_variance_groups(
                    np.array(scored.rewards), cfg.rollout.group_size
                )
                if not zero.any():
                    break
                t1 = time.perf_counter()
                extra = self.dist.shard(self.sampler.indices(step + round_ * 1_000_000))
                extra = extra[: int(zero.sum())]
                more_p = [self.problems[i] for i in extra]
                p2, r2, prog2, pending2 = self._rollout(step, round_, more_p)
                gen_s += time.perf_counter() - t1
                s2 = pending2.wait()
                wait_s += s2.wait_s
                problems, indices, prompts, rollout, programs, scored = _replace_groups(
                    zero,
                    cfg.rollout.group_size,
                    (problems, indices, prompts, rollout, programs, scored),
                    (more_p, extra, p2, r2, prog2, s2),
                    self._pad_id,
                )
            t2 = time.perf_counter()
            ref = (
                reference_logprobs(self.policy, rollout, self.temperature, cfg.rollout.share_prefix)
                if beta_needed
                else None
            )
            first = self._first_forward(rollout) if single else None
            fwd_s = time.perf_counter() - t2
        else:
            # Overlap: the sandbox runs the programs while we compute the forwards.
            t2 = time.perf_counter()
            ref = (
                reference_logprobs(self.policy, rollout, self.temperature, cfg.rollout.share_prefix)
                if beta_needed
                else None
            )
            t3 = time.perf_counter()
            first = self._first_forward(rollout) if single else None
            fwd_s = time.perf_counter() - t3
            ref_s = t3 - t2
            scored = pending.wait()
            wait_s = scored.wait_s
            return _Batch(
                problems,
                indices,
                prompts,
                rollout,
                programs,
                scored,
                ref,
                first,
                {
                    "time/generate_s": gen_s,
                    "time/reference_s": ref_s,
                    "time/reward_wait_s": wait_s,
                    "_forward_s": fwd_s,
                },
            )
        return _Batch(
            problems,
            indices,
            prompts,
            rollout,
            programs,
            scored,
            ref,
            first,
            {
                "time/generate_s": gen_s,
                "time/reference_s": 0.0,
                "time/reward_wait_s": wait_s,
                "_forward_s": fwd_s,
            },
        )

    def _repair(self, step: int, have: tuple[Any, ...]) -> tuple[tuple[Any, ...], float]:
        """Self-repair (feedback.repair): groups where every sample failed are replaced by a
        group of revisions of one failed attempt, shown what went wrong."""
        problems, indices, prompts, rollout, _programs, scored = have
        k = self.cfg.rollout.group_size
        exe = scored.per_source.get("execution")
        if exe is None:
            return have, 0.0
        chosen = [
            g
            for g in range(len(problems))
            if all(v is not None and v <= 0 for v in exe[g * k : (g + 1) * k])
        ][: self.cfg.repair.max_groups]
        if not chosen:
            return have, 0.0
        positions: Any = getattr(self.policy.model.config, "n_positions", None) or getattr(
            self.policy.model.config, "max_position_embeddings", 2048
        )
        budget = int(positions) - self.cfg.rollout.max_new_tokens - 8  # chars >= tokens
        fixes, kept = [], []
        for g in chosen:
            text = repair_prompt(
                problems[g].prompt,
                rollout.texts[g * k],
                scored.outcomes[g * k],
                max_chars=budget,
            )
            if text is not None:
                fixes.append(problems[g].model_copy(update={"prompt": text}))
                kept.append(g)
        if len(kept) < len(chosen):
            self.feedback.note({"repair/skipped": float(len(chosen) - len(kept))})
        chosen = kept
        if not chosen:
            return have, 0.0
        p2, r2, prog2, pending2 = self._rollout(step, 50, fixes)
        s2 = pending2.wait()
        fixed_exe = s2.per_source.get("execution") or [None] * len(r2.texts)
        pairs = []
        for j, g in enumerate(chosen):
            for t in range(j * k, (j + 1) * k):
                value = fixed_exe[t]
                pair = repair_pair(prompts[g], rollout.texts[g * k], r2.texts[t])
                if value is not None and value > 0 and pair is not None:
                    pairs.append(pair)
                    break
        self.feedback.add_pairs(pairs)
        self.feedback.note({"repair/groups": float(len(chosen)), "repair/fixed": len(pairs)})
        mask = np.zeros(len(problems), dtype=bool)
        mask[chosen] = True
        new = _replace_groups(
            mask, k, have, (fixes, [indices[g] for g in chosen], p2, r2, prog2, s2), self._pad_id
        )
        return new, s2.wait_s

    @property
    def _pad_id(self) -> int:
        return int(self.policy.tokenizer.pad_token_id)

    def _first_forward(self, rollout: Rollout) -> Forward:
        self.policy.model.train()
        ppo = self.cfg.algorithm == "ppo"
        return policy_forward(
            self.policy,
            rollout,
            self.temperature,
            grad=True,
            share_prefix=self.cfg.rollout.share_prefix,
            want_values=ppo,
            want_entropy=ppo,
        )

    def _update(self, step: int, batch: _Batch) -> tuple[dict[str, float], list[float]]:
        cfg = self.cfg
        k = cfg.rollout.group_size
        rollout = batch.rollout
        mask = rollout.mask.to(self.policy.device)
        rewards = np.asarray(batch.scored.rewards, dtype=np.float64)
        # The whole batch's groups (every rank's), so each rank's sampler stays identical.
        all_indices, all_rewards = gather_groups(self.dist, batch.indices, rewards)
        zero = adv_math.zero_variance_groups(all_rewards, k)
        self.sampler.observe(all_indices, all_rewards.reshape(-1, k).mean(axis=1).tolist())
        beta = self.kl_ctl.coef if self.policy.has_reference else 0.0
        ppo = cfg.algorithm == "ppo"
        single = batch.first is not None
        self.policy.model.train()
        old: Forward
        if single:
            assert batch.first is not None
            old = Forward(
                logp=batch.first.logp.detach(),
                values=None if batch.first.values is None else batch.first.values.detach(),
            )
        else:
            old = policy_forward(
                self.policy,
                rollout,
                self.temperature,
                grad=False,
                share_prefix=cfg.rollout.share_prefix,
                want_values=ppo,
            )
        self._check_finite("log-probs", old.logp, step)
        targets = None
        seq_adv_np = np.zeros_like(rewards)
        if ppo:
            assert old.values is not None
            kl_old = kl_term(cfg, old.logp, batch.ref_logp)
            targets = ppo_targets(cfg, rewards, mask, old.values, kl_old, beta)
            seq_adv_np = (targets.advantages * mask).sum(1).cpu().numpy() / np.maximum(
                mask.sum(1).cpu().numpy(), 1
            )
        else:
            seq_adv_np = sequence_advantages(cfg, rewards)
        seq_adv = torch.as_tensor(seq_adv_np, dtype=torch.float32, device=self.policy.device)
        n_groups = rollout.n // k
        per_mb = -(-n_groups // cfg.grpo.minibatches)
        parts_acc: dict[str, list[float]] = {}
        losses, norms = [], []
        params = self.policy.trainable_parameters()
        for _epoch in range(cfg.grpo.inner_epochs):
            for g0 in range(0, n_groups, per_mb):
                rows = slice(g0 * k, min(n_groups, g0 + per_mb) * k)
                if single:
                    assert batch.first is not None
                    fwd = batch.first
                else:
                    fwd = policy_forward(
                        self.policy,
                        rollout,
                        self.temperature,
                        rows=rows,
                        grad=True,
                        share_prefix=cfg.rollout.share_prefix,
                        want_values=ppo,
                        want_entropy=ppo,
                    )
                self._check_finite("log-probs", fwd.logp, step)
                ref = None if batch.ref_logp is None else batch.ref_logp[rows]
                kl = kl_term(cfg, fwd.logp, ref)
                loss, parts = policy_loss(
                    cfg,
                    fwd.logp,
                    old.logp[rows],
                    mask[rows],
                    seq_adv=seq_adv[rows],
                    kl=kl,
                    beta=beta,
                    ppo=None if targets is None else _slice_targets(targets, rows),
                    values=fwd.values,
                    entropy=fwd.entropy,
                )
                self._check_finite("loss", loss.detach(), step)
                # Each rank's share of the one-process normaliser (distributed.reduce); DDP
                # averages gradients over ranks, hence the world-size factor.
                share, token_share = shares(self.dist, cfg, mask[rows])
                self.optimizer.zero_grad(set_to_none=True)
                (loss * (share * self.dist.world_size)).backward()  # type: ignore[no-untyped-call]
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.optim.max_grad_norm)
                if not bool(torch.isfinite(norm)):
                    self.optimizer.zero_grad(set_to_none=True)
                    raise NonFiniteError(
                        f"step {step}: gradient norm is {float(norm)}; the update was skipped "
                        "and the last good checkpoint kept. Lower optim.lr or use float32."
                    )
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()) * share)
                norms.append(float(norm))
                for key, val in parts.items():
                    scale = share if key.startswith("loss/") else token_share
                    parts_acc.setdefault(key, []).append(float(val) * scale)
                if single:
                    break
            if single:
                break
        self.scheduler.step()
        m = mask.float()
        seq_kl = None
        if batch.ref_logp is not None:
            kl_all = kl_term(cfg, old.logp, batch.ref_logp)
            assert kl_all is not None
            kl_sum, n_all = self.dist.all_sum([float((kl_all * m).sum()), float(rollout.n)])
            seq_kl = kl_sum / n_all
            self.kl_ctl.update(seq_kl, int(n_all))
        _, token_share = shares(self.dist, cfg, m)
        metrics = {key: float(np.mean(v)) for key, v in parts_acc.items()}
        metrics.update(batch.scored.metrics)
        metrics.update(
            {
                "reward/mean": float(all_rewards.mean()),
                "reward/std": float(all_rewards.std()),
                "loss/total": float(np.mean(losses)),
                "grad/norm": float(np.mean(norms)),
                "groups/zero_variance": float(zero.mean()),
                "entropy/mean": float(-(old.logp * m).sum() / m.sum().clamp(min=1)) * token_share,
                "kl/coef": float(beta),
            }
        )
        # Whole-batch values already: pre-scaled by the shares (summed over ranks), or the
        # same on every rank (gathered rewards, synchronised gradients).
        self._reduce_rules = (
            {*parts_acc, "loss/total", "entropy/mean"},
            {"reward/mean", "reward/std", "grad/norm", "groups/zero_variance", "kl/coef"},
        )
        if seq_kl is not None:
            metrics["kl/sequence"] = seq_kl
            self._reduce_rules[1].add("kl/sequence")
        return metrics, seq_adv_np.tolist()

    def _update_dpo(self, batch: _Batch) -> tuple[dict[str, float], list[float]]:
        """Online DPO: pairs from this batch's groups plus the feedback pool (dpo_online)."""
        k = self.cfg.rollout.group_size
        rewards = batch.scored.rewards
        pairs = dpo_online.group_pairs(batch.prompts, batch.rollout.texts, rewards, k, self.cfg.dpo)
        from_pool = dpo_online.take(self.feedback.pairs, max(1, len(pairs)))
        metrics = dpo_online.dpo_update(
            self.policy,
            self.optimizer,
            self.cfg.dpo,
            pairs + from_pool,
            self.cfg.optim.max_grad_norm,
        )
        self.scheduler.step()
        r = np.asarray(rewards, dtype=np.float64)
        metrics.update(batch.scored.metrics)
        metrics.update(
            {
                "reward/mean": float(r.mean()),
                "reward/std": float(r.std()),
                "groups/zero_variance": float(adv_math.zero_variance_groups(r, k).mean()),
                "dpo/pool_pairs": float(len(from_pool)),
            }
        )
        return metrics, dpo_online.centred(rewards, k)

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
        settings = state.get("settings", {})
        self.weights.update(settings.get("reward_weights", {}))
        self.temperature = float(settings.get("temperature", self.temperature))
        for r in state.get("ratings", []):
            rating = Rating.model_validate(r)
            self.ratings[rating.id] = rating
        self.feedback.load_state_dict(state.get("feedback", {}))

    def _config_digest(self) -> str:
        dump = self.cfg.model_dump_json(exclude={"run": {"steps"}})
        return hashlib.sha256(dump.encode()).hexdigest()[:16]

    def _check_finite(self, name: str, x: torch.Tensor, step: int) -> None:
        """`check_finite`, agreed by all ranks (one rank raising alone would hang the rest)."""
        if not self.dist.enabled:
            check_finite(name, x, step)
        elif self.dist.any_true(not bool(torch.isfinite(x).all())):
            raise NonFiniteError(
                f"step {step}: {name} contains NaN or inf on some rank; the update was skipped "
                "and the last good checkpoint kept. Lower optim.lr or use float32."
            )

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


def _slice_targets(t: Any, rows: slice) -> Any:
    return type(t)(
        advantages=t.advantages[rows], returns=t.returns[rows], old_values=t.old_values[rows]
    )


def _replace_groups(
    zero: np.ndarray, k: int, have: tuple[Any, ...], new: tuple[Any, ...], pad_id: int
) -> tuple[Any, ...]:
    """DAPO dynamic sampling: swap zero-variance groups for freshly sampled ones (in order)."""
    problems, indices, prompts, rollout, programs, scored = have
    p2, i2, t2, r2, prog2, s2 = new
    slots = [g for g in np.flatnonzero(zero)][: len(p2)]
    problems, indices, prompts = list(problems), list(indices), list(prompts)
    programs = list(programs)
    width = max(rollout.completion_ids.shape[1], r2.completion_ids.shape[1])

    def widen(x: torch.Tensor, fill: int | float) -> torch.Tensor:
        return torch.nn.functional.pad(x, (0, width - x.shape[1]), value=fill)

    ids, msk, lp = (
        widen(rollout.completion_ids, pad_id),
        widen(rollout.mask, 0),
        widen(rollout.sample_logp, 0.0),
    )
    ids2, msk2, lp2 = (
        widen(r2.completion_ids, pad_id),
        widen(r2.mask, 0),
        widen(r2.sample_logp, 0.0),
    )
    texts, finish = list(rollout.texts), list(rollout.finish)
    prompt_ids = list(rollout.prompt_ids)
    rewards, outcomes, flags = list(scored.rewards), list(scored.outcomes), list(scored.flags)
    per_source = {n: list(v) for n, v in scored.per_source.items()}
    for j, g in enumerate(slots):
        problems[g], indices[g], prompts[g] = p2[j], i2[j], t2[j]
        prompt_ids[g] = r2.prompt_ids[j]
        a, b = slice(g * k, (g + 1) * k), slice(j * k, (j + 1) * k)
        ids[a], msk[a], lp[a] = ids2[b], msk2[b], lp2[b]
        texts[a], finish[a], programs[a] = r2.texts[b], r2.finish[b], prog2[b]
        rewards[a], outcomes[a], flags[a] = s2.rewards[b], s2.outcomes[b], s2.flags[b]
        for name in per_source:
            per_source[name][a] = s2.per_source[name][b]
    merged = score_phase.Scored(
        rewards,
        per_source,
        outcomes,
        flags,
        scored.wait_s + s2.wait_s,
        score_phase._metrics(per_source, outcomes),
    )
    new_rollout = Rollout(prompt_ids, rollout.group_size, ids, msk, lp, texts, finish)
    return problems, indices, prompts, new_rollout, programs, merged
