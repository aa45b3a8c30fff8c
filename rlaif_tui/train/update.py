"""Advantages -> loss -> optimizer step, for GRPO, RLOO and PPO (one function per phase).

Everything here works on one rollout batch whose rewards are known. The algorithms' losses are
the pure functions in `rlaif_tui.algos`; this module arranges their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rlaif_tui.algos import grpo as grpo_algo
from rlaif_tui.algos import kl as kl_algo
from rlaif_tui.algos import ppo as ppo_algo
from rlaif_tui.algos import rloo as rloo_algo
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train.errors import NonFiniteError


def check_finite(name: str, x: Tensor, step: int) -> None:
    if not bool(torch.isfinite(x).all()):
        raise NonFiniteError(
            f"step {step}: {name} contains NaN or inf; the update was skipped and the last "
            "good checkpoint kept. Lower optim.lr, raise optim.max_grad_norm's strictness, or "
            "use model.dtype=float32."
        )


def sequence_advantages(cfg: TrainConfig, rewards: np.ndarray) -> np.ndarray:
    """(N,) advantages for GRPO (group-normalised) or RLOO (leave-one-out)."""
    k = cfg.rollout.group_size
    if cfg.algorithm == "rloo":
        return adv_math.rloo(rewards, k)
    return adv_math.grpo(rewards, k, scale=cfg.grpo.scale_rewards)


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
