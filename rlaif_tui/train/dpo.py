"""Offline DPO from a preference JSONL (`prompt`, `chosen`, `rejected`; TRL's format).

Each pair is tokenised as prompt + completion; only completion tokens count in the sequence
log-probs (`algos.dpo.sequence_logps`). The reference is the model the run started from: the
same network with its LoRA adapters disabled, or a frozen copy for full fine-tuning, exactly as
in the RL loop. Reference log-probs of the (fixed) pairs are computed once up front.

`heldout_margin` is the number to watch: the mean of log pi(chosen) - log pi(rejected) over
pairs the model never trained on, and the share of them where it is positive.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rlaif_tui.algos.dpo import dpo_loss, sequence_logps
from rlaif_tui.config.feedback import DPOConfig
from rlaif_tui.feedback.pairs import Pair


@dataclass
class Margin:
    logp_margin: float
    """Mean over pairs of log pi(chosen) - log pi(rejected)."""
    accuracy: float
    """Share of pairs with log pi(chosen) > log pi(rejected)."""
    reward_margin: float
    """Mean implicit reward margin beta ((pi_c - ref_c) - (pi_r - ref_r)); 0 at the start."""


@dataclass
class DPOReport:
    steps: int
    loss: float
    before: Margin | None
    after: Margin | None

    def metrics(self) -> dict[str, float]:
        out = {"loss/policy": self.loss, "dpo/steps": float(self.steps)}
        for tag, m in (("before", self.before), ("after", self.after)):
            if m is not None:
                out[f"dpo/heldout_margin_{tag}"] = m.logp_margin
                out[f"dpo/heldout_accuracy_{tag}"] = m.accuracy
                out[f"dpo/heldout_reward_margin_{tag}"] = m.reward_margin
        return out


def _encode(tokenizer: Any, prompt: str, completion: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of prompt + completion and how many of them (at the end) are completion."""
    p = list(tokenizer(prompt, add_special_tokens=False).input_ids)
    c = list(tokenizer(completion, add_special_tokens=False).input_ids)
    eos = tokenizer.eos_token_id
    if eos is not None:
        c.append(int(eos))  # the model should also learn where the answer ends
    ids = (p + c)[-max_length:]
    return ids, min(len(c), len(ids) - 1)


def batch_logps(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    max_length: int,
    average: bool = False,
) -> torch.Tensor:
    """Sequence log-probs (B,) of each completion given its prompt, with gradients."""
    device = next(model.parameters()).device
    rows = [_encode(tokenizer, p, c, max_length) for p, c in zip(prompts, completions, strict=True)]
    width = max(len(ids) for ids, _ in rows)
    pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    ids_t = torch.full((len(rows), width), pad, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    target = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, n_completion) in enumerate(rows):
        ids_t[i, : len(ids)] = torch.tensor(ids)
        attn[i, : len(ids)] = 1
        target[i, len(ids) - n_completion : len(ids)] = 1
    ids_t, attn, target = ids_t.to(device), attn.to(device), target.to(device)
    logits = model(input_ids=ids_t, attention_mask=attn).logits  # (B, T, V)
    return sequence_logps(logits, ids_t, target, average=average)


def pair_logps(
    model: Any, tokenizer: Any, pairs: Sequence[Pair], cfg: DPOConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """(chosen, rejected) sequence log-probs of a batch of pairs in one forward."""
    average = cfg.loss_type == "ipo"  # IPO works on length-averaged log-probs, as in TRL
    prompts = [p.prompt for p in pairs]
    logps = batch_logps(
        model,
        tokenizer,
        prompts * 2,
        [p.chosen for p in pairs] + [p.rejected for p in pairs],
        max_length=cfg.max_length,
        average=average,
    )
    return logps[: len(pairs)], logps[len(pairs) :]


@torch.no_grad()
def reference_logps(
    reference: Callable[[], contextlib.AbstractContextManager[Any]],
    tokenizer: Any,
    pairs: Sequence[Pair],
    cfg: DPOConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    chosen, rejected = [], []
    with reference() as ref:
        was = ref.training
        ref.eval()
        for i in range(0, len(pairs), cfg.batch_size):
            c, r = pair_logps(ref, tokenizer, pairs[i : i + cfg.batch_size], cfg)
            chosen.append(c.float().cpu())
            rejected.append(r.float().cpu())
        ref.train(was)
    return torch.cat(chosen), torch.cat(rejected)


@torch.no_grad()
def heldout_margin(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[Pair],
    ref: tuple[torch.Tensor, torch.Tensor],
    cfg: DPOConfig,
) -> Margin:
    was = model.training
    model.eval()
    cs, rs = [], []
    for i in range(0, len(pairs), cfg.batch_size):
        c, r = pair_logps(model, tokenizer, pairs[i : i + cfg.batch_size], cfg)
        cs.append(c.float().cpu())
        rs.append(r.float().cpu())
    model.train(was)
    c, r = torch.cat(cs), torch.cat(rs)
    out = dpo_loss(c, r, ref[0], ref[1], beta=cfg.beta, loss_type=cfg.loss_type)
    return Margin(
        logp_margin=float((c - r).mean()),
        accuracy=float((c > r).float().mean()),
        reward_margin=float(out.margin.mean()),
    )


def dpo_step(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[Pair],
    ref: tuple[torch.Tensor, torch.Tensor],
    cfg: DPOConfig,
    optimizer: torch.optim.Optimizer,
    params: Sequence[torch.nn.Parameter],
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """One optimizer step on a batch of pairs whose reference log-probs are `ref`."""
    model.train()
    c, r = pair_logps(model, tokenizer, pairs, cfg)
    device = c.device
    out = dpo_loss(
        c,
        r,
        ref[0].to(device),
        ref[1].to(device),
        beta=cfg.beta,
        loss_type=cfg.loss_type,
        label_smoothing=cfg.label_smoothing,
    )
    if not bool(torch.isfinite(out.loss)):
        raise FloatingPointError(f"DPO loss is {float(out.loss)}; lower the learning rate")
    optimizer.zero_grad(set_to_none=True)
    out.loss.backward()  # type: ignore[no-untyped-call]
    norm = torch.nn.utils.clip_grad_norm_(list(params), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {
        "loss/policy": float(out.loss.detach()),
        "dpo/reward_margin": float(out.margin.mean()),
        "dpo/accuracy": float(out.accuracy),
        "dpo/chosen_reward": float(out.chosen_rewards.mean()),
        "dpo/rejected_reward": float(out.rejected_rewards.mean()),
        "grad/norm": float(norm),
    }


def batches(n: int, size: int, epochs: int, seed: int) -> Iterator[list[int]]:
    rng = random.Random(seed)
    order = list(range(n))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in range(0, n, size):
            yield order[i : i + size]


def fit_offline(
    model: Any,
    tokenizer: Any,
    reference: Callable[[], contextlib.AbstractContextManager[Any]],
    train: Sequence[Pair],
    heldout: Sequence[Pair],
    cfg: DPOConfig,
    optimizer: torch.optim.Optimizer,
    *,
    seed: int = 0,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
    scheduler: Any = None,
) -> DPOReport:
    """Offline DPO over `train` for `cfg.epochs`; held-out margins before and after."""
    cfg.check()
    if not train:
        raise ValueError("no preference pairs to train on")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    ref_train = reference_logps(reference, tokenizer, train, cfg)
    ref_held = reference_logps(reference, tokenizer, heldout, cfg) if heldout else None
    before = heldout_margin(model, tokenizer, heldout, ref_held, cfg) if ref_held else None
    steps, last = 0, 0.0
    for idx in batches(len(train), cfg.batch_size, cfg.epochs, seed):
        m = dpo_step(
            model,
            tokenizer,
            [train[i] for i in idx],
            (ref_train[0][idx], ref_train[1][idx]),
            cfg,
            optimizer,
            params,
        )
        if scheduler is not None:
            scheduler.step()
        steps += 1
        last = m["loss/policy"]
        if on_step is not None:
            on_step(steps, m)
    after = heldout_margin(model, tokenizer, heldout, ref_held, cfg) if ref_held else None
    return DPOReport(steps=steps, loss=last, before=before, after=after)
