"""Shared-prefix forwards: encode each group's prompt once and share its KV cache.

A GRPO step scores k completions of the same prompt. Re-encoding the prompt for every row
(as plain batched `generate` and training forwards do) multiplies the cost of the prompt by k
and pads every row to the step's longest prompt. Here each distinct prompt runs through the
model once (no padding), its keys/values are laid out left-padded to the step's longest
prompt and repeated for the k rows of its group; completions then attend to them through the
cache. It is exact: completion tokens see the same keys and values, at the same positions, as
in a full forward (a test checks equality to rounding). Gradients flow through the shared
keys/values, summed over the group by `repeat_interleave`'s backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import DynamicCache

from rlaif_tui.models import shared_attention


@dataclass
class Prefix:
    keys: list[Tensor]
    """Per layer (G, H, P, D): each prompt's keys, left-padded to the longest (P)."""
    values: list[Tensor]
    """Per layer (G, H, P, D)."""
    mask: Tensor
    """(G, P) 1 on real prompt positions."""
    lengths: Tensor
    """(G,) prompt lengths; the first completion token sits at position `lengths[g]`."""
    last_logits: Tensor
    """(G, V) logits at each prompt's last position (they predict completion token 0)."""
    last_hidden: Tensor
    """(G, H_model) final hidden state at each prompt's last position (for a value head)."""


def encode_prefix(model: torch.nn.Module, prompts: Sequence[Sequence[int]]) -> Prefix:
    """Run each prompt through `model` once (batch 1, no padding) and lay out its KV cache."""
    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    keys: list[list[Tensor]] = []
    values: list[list[Tensor]] = []
    last_logits, last_hidden = [], []
    for ids in prompts:
        x = torch.tensor([list(ids)], device=device)
        out = model(input_ids=x, use_cache=True, output_hidden_states=True)
        cache = out.past_key_values
        pad = width - len(ids)
        ks, vs = [], []
        for layer in cache.layers:
            k, v = layer.keys, layer.values  # (1, H, L, D)
            if pad:
                k = torch.nn.functional.pad(k, (0, 0, pad, 0))
                v = torch.nn.functional.pad(v, (0, 0, pad, 0))
            ks.append(k)
            vs.append(v)
        keys.append(ks)
        values.append(vs)
        last_logits.append(out.logits[:, -1])
        last_hidden.append(out.hidden_states[-1][:, -1])
    n_layers = len(keys[0])
    mask = torch.zeros((len(prompts), width), dtype=torch.long, device=device)
    for g, ids in enumerate(prompts):
        mask[g, width - len(ids) :] = 1
    return Prefix(
        keys=[torch.cat([k[i] for k in keys]) for i in range(n_layers)],
        values=[torch.cat([v[i] for v in values]) for i in range(n_layers)],
        mask=mask,
        lengths=torch.tensor([len(p) for p in prompts], device=device),
        last_logits=torch.cat(last_logits),
        last_hidden=torch.cat(last_hidden),
    )


def expand_cache(prefix: Prefix, group_size: int) -> DynamicCache:
    """A cache holding each prompt's KV repeated for the `group_size` rows of its group."""
    return DynamicCache(
        ddp_cache_data=[
            (k.repeat_interleave(group_size, 0), v.repeat_interleave(group_size, 0))
            for k, v in zip(prefix.keys, prefix.values, strict=True)
        ]
    )


class _PreallocatedLayer(shared_attention.BufferedLayer):
    """The prompts' KV repeated for their groups, in a buffer sized for the whole generation."""

    what = "preallocated KV cache"

    def __init__(self, keys: Tensor, values: Tensor, group_size: int, reserve: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        g, h, p, d = keys.shape
        self.buf_k = keys.new_empty((g * group_size, h, p + reserve, d))
        self.buf_v = values.new_empty((g * group_size, h, p + reserve, d))
        # write each prompt's KV into its group's rows without an intermediate copy
        self.buf_k.view(g, group_size, h, p + reserve, d)[:, :, :, :p] = keys[:, None]
        self.buf_v.view(g, group_size, h, p + reserve, d)[:, :, :, :p] = values[:, None]
        self.length = p
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True
        self.keys = self.buf_k[:, :, :p]
        self.values = self.buf_v[:, :, :p]

    def update(
        self, key_states: Tensor, value_states: Tensor, *args: object, **kwargs: object
    ) -> tuple[Tensor, Tensor]:
        return self.append(key_states, value_states)


def generation_cache(prefix: Prefix, group_size: int, reserve: int) -> DynamicCache:
    """A cache for sampling `reserve` tokens after each prompt, rows of a group sharing it."""
    cache = DynamicCache()
    cache.layers = [
        _PreallocatedLayer(k, v, group_size, reserve)
        for k, v in zip(prefix.keys, prefix.values, strict=True)
    ]
    return cache


def completion_forward(
    model: torch.nn.Module,
    prefix: Prefix,
    group_size: int,
    completion_ids: Tensor,
    *,
    want_hidden: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Logits (N, C, V) predicting each completion token, N = G * group_size rows.

    Row n continues prompt n // group_size. Position 0's logits are the prompt's last logits;
    positions 1.. come from feeding completion tokens 0..C-2 through the shared cache.
    """
    # completion_ids: (N, C)
    c = completion_ids.shape[1]
    first = prefix.last_logits.repeat_interleave(group_size, 0)[:, None]  # (N, 1, V)
    first_h = prefix.last_hidden.repeat_interleave(group_size, 0)[:, None]  # (N, 1, H)
    if c == 1:
        return first, (first_h if want_hidden else None)
    lengths = prefix.lengths.repeat_interleave(group_size, 0)  # (N,)
    positions = lengths[:, None] + torch.arange(c - 1, device=lengths.device)  # (N, C-1)
    mask = torch.cat(
        [prefix.mask.repeat_interleave(group_size, 0), torch.ones_like(completion_ids[:, :-1])],
        dim=1,
    )  # (N, P + C - 1)
    if shared_attention.supported(model):  # prompt KV once per group, no repeated copies
        with shared_attention.sharing(
            model, prefix.keys, prefix.values, prefix.mask, group_size, 0
        ) as cache:
            out = model(
                input_ids=completion_ids[:, :-1],
                past_key_values=cache,
                attention_mask=mask,
                position_ids=positions,
                use_cache=True,
                output_hidden_states=want_hidden,
            )
    else:
        out = model(
            input_ids=completion_ids[:, :-1],
            past_key_values=expand_cache(prefix, group_size),
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            output_hidden_states=want_hidden,
        )
    logits = torch.cat([first, out.logits], dim=1)  # (N, C, V)
    hidden = torch.cat([first_h, out.hidden_states[-1]], dim=1) if want_hidden else None
    return logits, hidden


def full_forward(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    group_size: int,
    completion_ids: Tensor,
    pad_id: int,
    *,
    want_hidden: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """The unshared reference path: every row holds its own left-padded prompt + completion.
    Same result as `completion_forward` (used with gradient checkpointing and in tests)."""
    n, c = completion_ids.shape
    device = completion_ids.device
    width = max(len(p) for p in prompts)
    ids = torch.full((n, width + c), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((n, width + c), dtype=torch.long, device=device)
    for row in range(n):
        p = prompts[row // group_size]
        ids[row, width - len(p) : width] = torch.tensor(list(p), device=device)
        mask[row, width - len(p) :] = 1
    ids[:, width:] = completion_ids
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    out = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions,
        output_hidden_states=want_hidden,
    )
    logits = out.logits[:, width - 1 : width + c - 1]  # (N, C, V)
    hidden = out.hidden_states[-1][:, width - 1 : width + c - 1] if want_hidden else None
    return logits, hidden


def token_logprobs(logits: Tensor, ids: Tensor, temperature: float = 1.0) -> Tensor:
    """log softmax(logits / T) at the given ids."""
    # logits: (N, C, V)   ids: (N, C) -> (N, C)
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    return logp.gather(-1, ids[..., None]).squeeze(-1)
