"""Shared-prefix attention for decoding (the idea of Hydragen, Juravsky et al. 2024).

With a group's prompt KV repeated for each of its k rows, every decode step reads k copies
of the same prompt keys and values; on a CPU that memory traffic dominates sampling. Here the
cache holds only each row's generated suffix, the prompt KV stays once per group, and attention
is computed in two parts that are merged exactly with their log-sum-exps:

    softmax([s_p, s_s]) @ [V_p; V_s] = (e^{m_p - M} o_p + e^{m_s - M} o_s)
                                        / (e^{m_p - M} l_p + e^{m_s - M} l_s)

where o, l, m are the unnormalised output, normaliser and max of each part. The prefix part
is one batched matmul per group (all k queries against one copy of the prompt).

It plugs into transformers' attention registry, so any model whose attention layers go
through `ALL_ATTENTION_FUNCTIONS` (GPT-2, Llama, Qwen2, ...) can use it while sampling.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor
from transformers import AttentionInterface, AttentionMaskInterface, DynamicCache
from transformers.cache_utils import DynamicLayer

NAME = "rlaif_shared_prefix"
_state = threading.local()


class _Shared:
    def __init__(
        self, keys: list[Tensor], values: list[Tensor], mask: Tensor, group_size: int
    ) -> None:
        self.keys, self.values, self.group_size = keys, values, group_size
        # (G, 1, 1, P) additive bias: 0 on real prompt positions, -inf on left padding
        bias = torch.zeros(mask.shape, dtype=keys[0].dtype, device=mask.device)
        self.bias = bias.masked_fill(mask == 0, float("-inf"))[:, None, None, :]


def _repeat_heads(x: Tensor, heads: int) -> Tensor:
    if x.shape[1] == heads:
        return x
    return x.repeat_interleave(heads // x.shape[1], dim=1)


def shared_prefix_attention(
    module: torch.nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[Tensor, None]:
    """Attention of `query` over [group prefix; row suffix] (suffix = `key`, `value`)."""
    st: _Shared = _state.shared
    layer = int(module.layer_idx)  # type: ignore[arg-type]
    n, h, q, d = query.shape  # (N, H, q, D); key/value: (N, H_kv, t, D)
    k = st.group_size
    g = n // k
    scale = scaling if scaling is not None else d**-0.5
    kp = _repeat_heads(st.keys[layer], h)  # (G, H, P, D)
    vp = _repeat_heads(st.values[layer], h)
    ks, vs = _repeat_heads(key, h), _repeat_heads(value, h)  # (N, H, t, D)
    qg = query.view(g, k, h, q, d).transpose(1, 2).reshape(g, h, k * q, d)  # (G, H, kq, D)
    sp = torch.matmul(qg, kp.transpose(-1, -2)) * scale + st.bias  # (G, H, kq, P)
    mp = sp.amax(-1, keepdim=True)  # (G, H, kq, 1)
    ep = torch.exp(sp - mp)
    op = torch.matmul(ep, vp)  # (G, H, kq, D) unnormalised
    lp = ep.sum(-1, keepdim=True)

    def rows(x: Tensor) -> Tensor:  # (G, H, kq, X) -> (N, H, q, X)
        return x.view(g, h, k, q, -1).transpose(1, 2).reshape(n, h, q, -1)

    op, lp, mp = rows(op), rows(lp), rows(mp)
    ss = torch.matmul(query, ks.transpose(-1, -2)) * scale  # (N, H, q, t)
    t = ss.shape[-1]
    if q > 1:  # causal within the suffix: query i sees suffix keys up to t - q + i
        causal = torch.ones(q, t, dtype=torch.bool, device=ss.device).tril(t - q)
        ss = ss.masked_fill(~causal, float("-inf"))
    ms = ss.amax(-1, keepdim=True)
    es = torch.exp(ss - ms)
    os_ = torch.matmul(es, vs)
    ls = es.sum(-1, keepdim=True)
    top = torch.maximum(mp, ms)
    wp, ws = torch.exp(mp - top), torch.exp(ms - top)
    out = (op * wp + os_ * ws) / (lp * wp + ls * ws)  # (N, H, q, D)
    return out.transpose(1, 2).contiguous(), None


def _no_mask(*args: Any, **kwargs: Any) -> None:
    return None  # the attention above builds its own masks


AttentionInterface.register(NAME, shared_prefix_attention)
AttentionMaskInterface.register(NAME, _no_mask)


class BufferedLayer(DynamicLayer):  # type: ignore[no-untyped-call]
    """A cache layer over buffers sized for the whole generation (`buf_k`, `buf_v`: rows,
    heads, capacity, dim): each decode step writes its columns instead of concatenating (and
    copying) the whole cache as DynamicLayer does."""

    buf_k: Tensor
    buf_v: Tensor
    length: int
    what = "KV cache"
    """Named in the overflow error."""

    def append(self, key_states: Tensor, value_states: Tensor) -> tuple[Tensor, Tensor]:
        end = self.length + key_states.shape[-2]
        if end > self.buf_k.shape[-2]:
            raise RuntimeError(f"{self.what} overflow: generation ran past its reserve")
        self.buf_k[:, :, self.length : end] = key_states
        self.buf_v[:, :, self.length : end] = value_states
        self.length = end
        self.keys = self.buf_k[:, :, :end]
        self.values = self.buf_v[:, :, :end]
        return self.keys, self.values


class _SuffixLayer(BufferedLayer):
    """Cache layer holding only the generated suffix, in a buffer sized for the generation."""

    what = "suffix KV cache"

    def __init__(self, rows: int, like: Tensor, reserve: int, prefix_len: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        _, h, _, d = like.shape
        # reserve 0: a single forward over the whole suffix (training); keep its tensors as-is
        self.direct = reserve == 0
        self.buf_k = like.new_empty((rows, h, reserve, d))
        self.buf_v = like.new_empty((rows, h, reserve, d))
        self.length = 0
        self.prefix_len = prefix_len
        self.dtype, self.device = like.dtype, like.device
        self.is_initialized = True
        self.keys = self.buf_k[:, :, :0]
        self.values = self.buf_v[:, :, :0]

    def update(
        self, key_states: Tensor, value_states: Tensor, *args: object, **kwargs: object
    ) -> tuple[Tensor, Tensor]:
        if self.direct:
            if self.length:
                raise RuntimeError("a reserve-0 suffix cache takes a single forward")
            self.length = key_states.shape[-2]
            self.keys, self.values = key_states, value_states
            return key_states, value_states
        return self.append(key_states, value_states)

    def get_seq_length(self) -> int:
        return self.prefix_len + self.length


def supported(model: torch.nn.Module) -> bool:
    """Whether `model`'s attention goes through the registry with plain causal attention."""
    config = getattr(model, "config", None)
    if config is None:
        return False
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    impl = getattr(text, "_attn_implementation", None)
    no_window = getattr(text, "sliding_window", None) in (None, 0) or not getattr(
        text, "use_sliding_window", False
    )
    return (
        impl in ("sdpa", "eager", NAME)
        and no_window
        and not getattr(text, "attn_logit_softcapping", None)
    )


@contextlib.contextmanager
def sharing(
    model: torch.nn.Module,
    keys: list[Tensor],
    values: list[Tensor],
    mask: Tensor,
    group_size: int,
    reserve: int,
) -> Iterator[DynamicCache]:
    """Within the block, `model` attends with shared prefixes; yields the suffix cache."""
    config: Any = model.config
    text = config.get_text_config()
    before = text._attn_implementation
    _state.shared = _Shared(keys, values, mask, group_size)
    cache = DynamicCache()
    rows = keys[0].shape[0] * group_size
    cache.layers = [_SuffixLayer(rows, k, reserve, k.shape[2]) for k in keys]
    text._attn_implementation = NAME
    try:
        yield cache
    finally:
        text._attn_implementation = before
        _state.shared = None
