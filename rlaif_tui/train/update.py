"""Advantages -> loss -> optimizer step, for GRPO, RLOO and PPO (one function per phase).

Everything here works on one rollout batch whose rewards are known. The algorithms' losses are
the pure functions in `rlaif_tui.algos`; this module arranges their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from rlaif_tui.algos import grpo as grpo_algo
from rlaif_tui.algos import kl as kl_algo
from rlaif_tui.algos import ppo as ppo_algo
from rlaif_tui.algos import rloo as rloo_algo
from rlaif_tui.algos.kl import AdaptiveKLController, FixedKLController
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.distributed import DistContext
from rlaif_tui.distributed.gather import gather_groups
from rlaif_tui.distributed.reduce import shares
from rlaif_tui.models.errors import NonFiniteError
from rlaif_tui.models.policy import Policy
from rlaif_tui.scoring.sources.execution import DROPPED
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train.batch import Batch
from rlaif_tui.train.logprobs import Forward, policy_forward

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer


def check_finite(name: str, x: Tensor, step: int) -> None:
    if not bool(torch.isfinite(x).all()):
        raise NonFiniteError(
            f"step {step}: {name} contains NaN or inf; the update was skipped and the last "
            "good checkpoint kept. Lower optim.lr, raise optim.max_grad_norm's strictness, or "
            "use model.dtype=float32."
        )


def sequence_advantages(
    cfg: TrainConfig, rewards: np.ndarray, keep: np.ndarray | None = None
) -> np.ndarray:
    """(N,) advantages for GRPO (group-normalised) or RLOO (leave-one-out); samples where
    `keep` is False leave their group's computation (`dropped`) and get 0."""
    k = cfg.rollout.group_size

    def advantages(r: np.ndarray, size: int) -> np.ndarray:
        if cfg.algorithm == "rloo":
            return adv_math.rloo(r, size)
        return adv_math.grpo(r, size, scale=cfg.grpo.scale_rewards)

    if keep is None or bool(np.all(keep)):
        return advantages(rewards, k)
    return adv_math.without(advantages, rewards, keep, k)


def dropped(flags: Sequence[Sequence[str]]) -> np.ndarray:
    """(N,) True for samples whose sandbox failed under `on_sandbox_error: drop`, unless a
    confirmed penalty applies to them (a dropped sample is never a free pass)."""
    return np.array(
        [DROPPED in f and not any(x.startswith("penalised:") for x in f) for f in flags],
        dtype=bool,
    )


@dataclass
class PPOTargets:
    advantages: Tensor
    """(N, C) whitened GAE advantages."""
    returns: Tensor
    """(N, C) value targets."""
    old_values: Tensor
    """(N, C)."""


def ppo_targets(
    cfg: TrainConfig,
    rewards: np.ndarray,
    mask: Tensor,
    old_values: Tensor,
    kl: Tensor | None,
    beta: float,
) -> PPOTargets:
    """Token rewards (score on the last token, minus beta * KL per token if `kl.in_reward`),
    then GAE and whitening in the advantage module."""
    m = mask.double().cpu().numpy()  # (N, C)
    tok_rewards = np.zeros_like(m)
    last = np.maximum(m.sum(1).astype(int) - 1, 0)
    tok_rewards[np.arange(len(rewards)), last] = rewards
    if kl is not None and cfg.kl.in_reward and beta:
        tok_rewards -= beta * kl.detach().double().cpu().numpy() * m
    values = old_values.detach().double().cpu().numpy() * m
    adv, ret = adv_math.gae(tok_rewards, values, m, cfg.ppo.gamma, cfg.ppo.lam)
    if cfg.ppo.whiten_advantages:
        adv = adv_math.whiten(adv, m)
    dev, dt = old_values.device, old_values.dtype
    return PPOTargets(
        advantages=torch.as_tensor(adv, dtype=dt, device=dev),
        returns=torch.as_tensor(ret, dtype=dt, device=dev),
        old_values=old_values.detach(),
    )


def policy_loss(
    cfg: TrainConfig,
    fwd_logp: Tensor,
    old_logp: Tensor,
    mask: Tensor,
    *,
    seq_adv: Tensor | None,
    kl: Tensor | None,
    beta: float,
    ppo: PPOTargets | None = None,
    values: Tensor | None = None,
    entropy: Tensor | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """The configured algorithm's loss on one (mini)batch."""
    if cfg.algorithm == "grpo":
        assert seq_adv is not None
        return grpo_algo.grpo_loss(
            fwd_logp,
            old_logp,
            seq_adv,
            mask,
            kl=kl,
            beta=beta,
            eps_low=cfg.grpo.epsilon_low,
            eps_high=cfg.grpo.epsilon_high,
            loss_type=cfg.grpo.loss_type,
            max_tokens=cfg.rollout.max_new_tokens,
        )
    if cfg.algorithm == "rloo":
        assert seq_adv is not None
        return rloo_algo.rloo_loss(
            fwd_logp, old_logp, seq_adv, mask, kl=kl, beta=beta, eps=cfg.grpo.epsilon_low
        )
    if cfg.algorithm == "ppo":
        assert ppo is not None
        assert values is not None
        assert entropy is not None
        loss, parts = ppo_algo.ppo_loss(
            fwd_logp,
            old_logp,
            ppo.advantages,
            mask,
            values,
            ppo.old_values,
            ppo.returns,
            entropy,
            eps=cfg.grpo.epsilon_low,
            vf_coef=cfg.ppo.vf_coef,
            cliprange_value=cfg.ppo.cliprange_value,
            entropy_coef=cfg.ppo.entropy_coef,
        )
        if kl is not None:
            m = mask.to(kl.dtype)
            parts["kl/mean"] = ((kl * m).sum() / m.sum().clamp(min=1)).detach()
            if beta and not cfg.kl.in_reward:
                loss = loss + beta * ppo_algo.masked_mean(kl, mask)
        return loss, parts
    raise ValueError(f"unknown algorithm {cfg.algorithm!r}; valid: grpo, rloo, ppo")


def kl_term(cfg: TrainConfig, logp: Tensor, ref_logp: Tensor | None) -> Tensor | None:
    if ref_logp is None:
        return None
    return kl_algo.per_token_kl(logp, ref_logp, cfg.kl.estimator)


def lr_lambda(cfg: TrainConfig) -> Callable[[int], float]:
    """Linear warm-up, then constant / linear / cosine decay to 0 over `run.steps`."""
    total, warm, kind = cfg.run.steps, cfg.optim.warmup_steps, cfg.optim.schedule

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if kind == "constant":
            return 1.0
        progress = min(1.0, (step - warm) / max(1, total - warm))
        if kind == "linear":
            return 1.0 - progress
        return 0.5 * (1 + math.cos(math.pi * progress))

    return f


def check_finite_all(dist: DistContext, name: str, x: Tensor, step: int) -> None:
    """`check_finite`, agreed by all ranks (one rank raising alone would hang the rest)."""
    if not dist.enabled:
        check_finite(name, x, step)
    elif dist.any_true(not bool(torch.isfinite(x).all())):
        raise NonFiniteError(
            f"step {step}: {name} contains NaN or inf on some rank; the update was skipped "
            "and the last good checkpoint kept. Lower optim.lr or use float32."
        )


@dataclass
class Update:
    """What an update reports: metrics, each completion's advantage, and how each metric
    combines over data-parallel ranks (`distributed.reduce_metrics`)."""

    metrics: dict[str, float]
    advantages: list[float]
    summed: set[str] = field(default_factory=set)
    """Keys already scaled by this rank's share of the batch: summed over ranks."""
    same: set[str] = field(default_factory=set)
    """Keys equal on every rank (gathered rewards, synchronised gradients): taken as they are."""


def _slice_targets(t: PPOTargets, rows: slice) -> PPOTargets:
    return PPOTargets(
        advantages=t.advantages[rows], returns=t.returns[rows], old_values=t.old_values[rows]
    )


def trainer_update(t: Trainer, batch: Batch, step: int) -> Update:
    """The trainer's GRPO / RLOO / PPO update; the curriculum sampler first sees the mean
    reward of each group of the whole batch (every rank's, so the ranks' samplers agree)."""
    k = t.cfg.rollout.group_size
    rewards = np.asarray(batch.scored.rewards, dtype=np.float64)
    all_indices, all_rewards = gather_groups(t.dist, batch.indices, rewards)
    t.sampler.observe(all_indices, all_rewards.reshape(-1, k).mean(axis=1).tolist())
    return rl_update(
        t.cfg,
        t.policy,
        t.optimizer,
        t.scheduler,
        t.kl_ctl,
        t.dist,
        t.temperature,
        batch,
        all_rewards,
        step,
    )


def rl_update(
    cfg: TrainConfig,
    policy: Policy,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    kl_ctl: AdaptiveKLController | FixedKLController,
    dist: DistContext,
    temperature: float,
    batch: Batch,
    all_rewards: np.ndarray,
    step: int,
) -> Update:
    """GRPO / RLOO / PPO: advantages, then `grpo.inner_epochs` passes over `grpo.minibatches`
    minibatches of whole groups, one optimizer step each. `all_rewards` are every rank's."""
    k = cfg.rollout.group_size
    rollout = batch.rollout
    mask = rollout.mask.to(policy.device)
    rewards = np.asarray(batch.scored.rewards, dtype=np.float64)
    drop = dropped(batch.scored.flags)
    zero = adv_math.zero_variance_groups(all_rewards, k)
    beta = kl_ctl.coef if policy.has_reference else 0.0
    ppo = cfg.algorithm == "ppo"
    policy.model.train()

    def forward(rows: slice | None, grad: bool) -> Forward:
        return policy_forward(
            policy,
            rollout,
            temperature,
            rows=rows,
            grad=grad,
            share_prefix=cfg.rollout.share_prefix,
            want_values=ppo,
            want_entropy=ppo and grad,
        )

    n_groups = rollout.n // k
    per_mb = -(-n_groups // cfg.grpo.minibatches)
    passes: list[tuple[slice, Forward | None]]
    if batch.first is not None:
        # One epoch of one minibatch: the forward computed while the sandbox ran is the one.
        old = Forward(
            logp=batch.first.logp.detach(),
            values=None if batch.first.values is None else batch.first.values.detach(),
        )
        passes = [(slice(0, rollout.n), batch.first)]
    else:
        old = forward(None, grad=False)
        passes = [
            (slice(g0 * k, min(n_groups, g0 + per_mb) * k), None)
            for _epoch in range(cfg.grpo.inner_epochs)
            for g0 in range(0, n_groups, per_mb)
        ]
    check_finite_all(dist, "log-probs", old.logp, step)
    targets = None
    if ppo:
        assert old.values is not None
        kl_old = kl_term(cfg, old.logp, batch.ref_logp)
        targets = ppo_targets(cfg, rewards, mask, old.values, kl_old, beta)
        targets.advantages[torch.as_tensor(drop, device=targets.advantages.device)] = 0.0
        seq_adv_np = (targets.advantages * mask).sum(1).cpu().numpy() / np.maximum(
            mask.sum(1).cpu().numpy(), 1
        )
    else:
        seq_adv_np = sequence_advantages(cfg, rewards, ~drop)
    seq_adv = torch.as_tensor(seq_adv_np, dtype=torch.float32, device=policy.device)
    parts_acc: dict[str, list[float]] = {}
    losses, norms = [], []
    params = policy.trainable_parameters()
    for rows, given in passes:
        fwd = given if given is not None else forward(rows, grad=True)
        check_finite_all(dist, "log-probs", fwd.logp, step)
        ref = None if batch.ref_logp is None else batch.ref_logp[rows]
        loss, parts = policy_loss(
            cfg,
            fwd.logp,
            old.logp[rows],
            mask[rows],
            seq_adv=seq_adv[rows],
            kl=kl_term(cfg, fwd.logp, ref),
            beta=beta,
            ppo=None if targets is None else _slice_targets(targets, rows),
            values=fwd.values,
            entropy=fwd.entropy,
        )
        check_finite_all(dist, "loss", loss.detach(), step)
        # Each rank's share of the one-process normaliser (distributed.reduce); DDP averages
        # gradients over ranks, hence the world-size factor.
        share, token_share = shares(dist, cfg, mask[rows])
        optimizer.zero_grad(set_to_none=True)
        (loss * (share * dist.world_size)).backward()  # type: ignore[no-untyped-call]
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.optim.max_grad_norm)
        if not bool(torch.isfinite(norm)):
            optimizer.zero_grad(set_to_none=True)
            raise NonFiniteError(
                f"step {step}: gradient norm is {float(norm)}; the update was skipped "
                "and the last good checkpoint kept. Lower optim.lr or use float32."
            )
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()) * share)
        norms.append(float(norm))
        for key, val in parts.items():
            scale = share if key.startswith("loss/") else token_share
            parts_acc.setdefault(key, []).append(float(val) * scale)
    scheduler.step()
    m = mask.float()
    seq_kl = None
    if batch.ref_logp is not None:
        kl_all = kl_term(cfg, old.logp, batch.ref_logp)
        assert kl_all is not None
        kl_sum, n_all = dist.all_sum([float((kl_all * m).sum()), float(rollout.n)])
        seq_kl = kl_sum / n_all
        kl_ctl.update(seq_kl, int(n_all))
    _, token_share = shares(dist, cfg, m)
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
            "sandbox/dropped": float(drop.sum()),
        }
    )
    # Whole-batch values already: pre-scaled by the shares (summed over ranks), or the same on
    # every rank (gathered rewards, synchronised gradients).
    summed = {*parts_acc, "loss/total", "entropy/mean", "sandbox/dropped"}
    same = {"reward/mean", "reward/std", "grad/norm", "groups/zero_variance", "kl/coef"}
    if seq_kl is not None:
        metrics["kl/sequence"] = seq_kl
        same.add("kl/sequence")
    return Update(metrics, seq_adv_np.tolist(), summed, same)
