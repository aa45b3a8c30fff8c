"""Rollout: sample `group_size` completions per prompt with a KV cache, keeping log-probs.

Each prompt is encoded once and its KV cache shared by its group (`models.prefix`). Sampling is
multinomial from softmax(logits / temperature), optionally restricted to the top-p nucleus
(Holtzman et al. 2020). A row stops at eos or when its text contains a stop sequence; the
tokens up to and including the one that completed it are kept for the loss, and its text is
cut at the stop string. Randomness comes only from the `generator` passed in, so a resumed run
samples exactly what the uninterrupted run did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from transformers import DynamicCache

from rlaif_tui.models import shared_attention
from rlaif_tui.models.errors import NonFiniteError
from rlaif_tui.models.prefix import Prefix, encode_prefix, generation_cache


@dataclass
class Rollout:
    prompt_ids: list[list[int]]
    """One per group (G)."""
    group_size: int
    completion_ids: Tensor
    """(N, C) sampled ids, N = G * group_size; positions after the end hold pad."""
    mask: Tensor
    """(N, C) 1 on tokens that belong to the completion (and to the loss)."""
    sample_logp: Tensor
    """(N, C) log-prob of each sampled token under the sampling distribution (T-scaled)."""
    texts: list[str]
    """Completion text of each row, cut at its stop sequence."""
    finish: list[str]
    """`eos`, `stop` or `length`."""

    @property
    def n(self) -> int:
        return self.completion_ids.shape[0]

    def lengths(self) -> Tensor:
        return self.mask.sum(-1)


def concat_rollouts(parts: Sequence[Rollout], pad_id: int) -> Rollout:
    """Join rollouts of the same group size along the batch (completions right-padded)."""
    if len(parts) == 1:
        return parts[0]
    width = max(r.completion_ids.shape[1] for r in parts)

    def cat(name: str, fill: float) -> Tensor:
        return torch.cat(
            [
                torch.nn.functional.pad(
                    getattr(r, name), (0, width - getattr(r, name).shape[1]), value=fill
                )
                for r in parts
            ]
        )

    return Rollout(
        prompt_ids=[p for r in parts for p in r.prompt_ids],
        group_size=parts[0].group_size,
        completion_ids=cat("completion_ids", pad_id),
        mask=cat("mask", 0),
        sample_logp=cat("sample_logp", 0.0),
        texts=[t for r in parts for t in r.texts],
        finish=[f for r in parts for f in r.finish],
    )


def sample_next(
    logits: Tensor, temperature: float, top_p: float, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """Sampled ids (N,) and their log-probs (N,) under softmax(logits / T)."""
    # logits: (N, V)
    if not bool(torch.isfinite(logits).all()):
        raise NonFiniteError(
            "sampling: the policy's logits contain NaN or inf; the step was abandoned and the "
            "last good checkpoint kept"
        )
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)  # (N, V)
    probs = logp.exp()
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = sorted_p.cumsum(-1) - sorted_p < top_p  # always keeps the top token
        sorted_p = sorted_p * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    ids = torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (N,)
    return ids, logp.gather(-1, ids[:, None]).squeeze(-1)


def _stop_at(text: str, stops: Sequence[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


@torch.no_grad()
def generate(
    model: torch.nn.Module,
    tokenizer: object,
    prompt_ids: list[list[int]],
    group_size: int,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    stop: Sequence[str] = (),
    generator: torch.Generator | None = None,
) -> Rollout:
    """Sample `group_size` completions for each prompt (rows of a group are adjacent)."""
    eos = int(tokenizer.eos_token_id)  # type: ignore[attr-defined]
    pad = int(tokenizer.pad_token_id)  # type: ignore[attr-defined]
    decode = tokenizer.decode  # type: ignore[attr-defined]
    prefix = encode_prefix(model, prompt_ids)
    if shared_attention.supported(model):
        ctx: contextlib.AbstractContextManager[DynamicCache] = shared_attention.sharing(
            model, prefix.keys, prefix.values, prefix.mask, group_size, max_new_tokens
        )
    else:  # models outside the attention registry: prompt KV repeated per row
        ctx = contextlib.nullcontext(generation_cache(prefix, group_size, max_new_tokens))
    with ctx as cache:
        state = _decode(
            model,
            decode,
            eos,
            pad,
            prefix,
            cache,
            group_size,
            max_new_tokens,
            temperature,
            top_p,
            stop,
            generator,
        )
    ids, keep, logps, cut, finish = state
    n = ids.shape[0]
    out_texts = []
    for row in range(n):
        length = int(keep[row].sum())
        text = decode(ids[row, :length].tolist(), skip_special_tokens=True)
        c = cut[row]
        out_texts.append(text[:c] if c is not None else text)
    return Rollout(
        prompt_ids=[list(p) for p in prompt_ids],
        group_size=group_size,
        completion_ids=ids,
        mask=keep,
        sample_logp=logps,
        texts=out_texts,
        finish=finish,
    )


def _decode(
    model: torch.nn.Module,
    decode: Any,
    eos: int,
    pad: int,
    prefix: Prefix,
    cache: DynamicCache,
    group_size: int,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    stop: Sequence[str],
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor, Tensor, list[int | None], list[str]]:
    """The sampling loop: one token per row per step until eos/stop/max_new_tokens."""
    n = prefix.mask.shape[0] * group_size
    device = prefix.mask.device
    mask = prefix.mask.repeat_interleave(group_size, 0)  # (N, P)
    positions = prefix.lengths.repeat_interleave(group_size, 0)  # (N,)
    logits = prefix.last_logits.repeat_interleave(group_size, 0)  # (N, V)
    ids = torch.full((n, max_new_tokens), pad, dtype=torch.long, device=device)
    keep = torch.zeros((n, max_new_tokens), dtype=torch.long, device=device)
    logps = torch.zeros((n, max_new_tokens), device=device)
    active = torch.ones(n, dtype=torch.bool, device=device)
    texts = [""] * n
    cut: list[int | None] = [None] * n
    finish = ["length"] * n
    steps = 0
    for t in range(max_new_tokens):
        tok, lp = sample_next(logits, temperature, top_p, generator)
        tok = torch.where(active, tok, torch.full_like(tok, pad))
        ids[:, t] = tok
        keep[:, t] = active.long()
        logps[:, t] = torch.where(active, lp, torch.zeros_like(lp))
        steps = t + 1
        ended = active & (tok == eos)
        for row in ended.nonzero().flatten().tolist():
            finish[row] = "eos"
        active &= ~ended
        if stop:
            tokens = tok.tolist()
            for row in active.nonzero().flatten().tolist():
                piece = decode([tokens[row]], skip_special_tokens=True)
                texts[row] += piece
                tail = len(texts[row]) - len(piece) - max(len(s) for s in stop)
                hit = _stop_at(texts[row][max(0, tail) :], stop)
                if hit is not None:
                    cut[row] = max(0, tail) + hit
                    active[row] = False
                    finish[row] = "stop"
        if not bool(active.any()) or t == max_new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones((n, 1), dtype=mask.dtype, device=device)], dim=1)
        out = model(
            input_ids=tok[:, None],
            past_key_values=cache,
            attention_mask=mask,
            position_ids=(positions + t)[:, None],
            use_cache=True,
        )
        cache = out.past_key_values
        logits = out.logits[:, -1]
    return ids[:, :steps], keep[:, :steps], logps[:, :steps], cut, finish
