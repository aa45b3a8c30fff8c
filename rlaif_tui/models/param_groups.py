"""Optimizer parameter groups: the embeddings may learn slower than the rest (or not at all).

Adam's first steps move every weight by about lr whatever its gradient's size. On a tiny
byte-level policy the token and position embeddings hold most of its copying precision (which
byte comes next, where in the line it is), and an RL update that nudges them all by lr costs
more than it buys. `optim.embedding_lr_scale` multiplies the learning rate of the input token
embeddings (tied to the output head in GPT-2) and of learned position embeddings; 0 freezes
them.
"""

from __future__ import annotations

from typing import Any

import torch


def embedding_parameters(model: torch.nn.Module) -> set[int]:
    """ids of the input-embedding and learned position-embedding weights of `model`."""
    found: set[int] = set()
    get = getattr(model, "get_input_embeddings", None)
    emb = get() if get is not None else None
    if emb is not None and hasattr(emb, "weight"):
        found.add(id(emb.weight))
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if isinstance(module, torch.nn.Embedding) and leaf in ("wpe", "embed_positions"):
            found.add(id(module.weight))
    return found


def param_groups(
    model: torch.nn.Module, params: list[torch.nn.Parameter], lr: float, embedding_scale: float
) -> list[dict[str, Any]]:
    """AdamW groups over `params` (the trainable ones): embeddings at lr * embedding_scale,
    the rest at lr. Frozen embeddings (scale 0) are left out of the optimizer."""
    if embedding_scale == 1.0:
        return [{"params": params, "lr": lr, "name": "all"}]
    emb = embedding_parameters(model)
    rest = [p for p in params if id(p) not in emb]
    slow = [p for p in params if id(p) in emb]
    groups: list[dict[str, Any]] = [{"params": rest, "lr": lr, "name": "body"}]
    if slow and embedding_scale > 0:
        groups.append({"params": slow, "lr": lr * embedding_scale, "name": "embeddings"})
    return groups
