"""Log-probs of sampled completions under the policy (with grad) or the reference (without).

Both go through the shared-prefix forward (`models.prefix`) unless gradient checkpointing is
on, which HF models implement by dropping the KV cache; then the plain full forward is used.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor

from rlaif_tui.distributed.ddp import grad_forward
from rlaif_tui.models.device import autocast
from rlaif_tui.models.policy import Policy
from rlaif_tui.models.prefix import completion_forward, encode_prefix, full_forward, token_logprobs
from rlaif_tui.models.rollout import Rollout


def checkpointing(model: torch.nn.Module) -> bool:
    """Whether activation checkpointing is on (HF then drops the KV cache in training)."""
    return any(getattr(m, "gradient_checkpointing", False) for m in model.modules())


@dataclass
class Forward:
    logp: Tensor
    """(N, C) log-probs of the sampled tokens (T-scaled)."""
    values: Tensor | None = None
    """(N, C) value-head estimates (PPO)."""
    entropy: Tensor | None = None
    """(N, C) entropy of the policy at each position (PPO's bonus)."""


def _forward(
    model: torch.nn.Module,
    rollout: Rollout,
    rows: slice,
    share: bool,
    pad_id: int,
    want_hidden: bool,
) -> tuple[Tensor, Tensor | None]:
    k = rollout.group_size
    g0, g1 = rows.start // k, rows.stop // k
    prompts = rollout.prompt_ids[g0:g1]
    ids = rollout.completion_ids[rows]
    if share:
        prefix = encode_prefix(model, prompts)
        return completion_forward(model, prefix, k, ids, want_hidden=want_hidden)
    return full_forward(model, prompts, k, ids, pad_id, want_hidden=want_hidden)


def policy_forward(
    policy: Policy,
    rollout: Rollout,
    temperature: float,
    *,
    rows: slice | None = None,
    grad: bool = True,
    share_prefix: bool = True,
    want_values: bool = False,
    want_entropy: bool = False,
) -> Forward:
    """Forward the policy over rows `rows` (whole groups) of `rollout`."""
    rows = rows or slice(0, rollout.n)
    share = share_prefix and not checkpointing(policy.model)
    ctx = nullcontext() if grad else torch.no_grad()
    want_hidden = want_values and policy.value_head is not None

    def body(model: torch.nn.Module) -> tuple[Tensor, Tensor | None]:
        return _forward(model, rollout, rows, share, policy.tokenizer.pad_token_id, want_hidden)

    # Under data parallelism the with-grad forward goes through DDP (`distributed.ddp`).
    ddp = grad_forward(policy) if grad else None
    with ctx, autocast(policy.device, policy.autocast_dtype):
        if ddp is not None:
            logits, values = ddp(body, want_hidden)
        else:
            logits, hidden = body(policy.model)
            head = policy.value_head
            values = head(hidden) if hidden is not None and head is not None else None
        ids = rollout.completion_ids[rows]
        logp = token_logprobs(logits, ids, temperature)
        entropy = None
        if want_entropy:
            from rlaif_tui.algos.ppo import entropy_from_logits

            entropy = entropy_from_logits(logits.float() / temperature)
    return Forward(logp=logp, values=values, entropy=entropy)


@torch.no_grad()
def reference_logprobs(
    policy: Policy, rollout: Rollout, temperature: float, share_prefix: bool = True
) -> Tensor:
    """(N, C) log-probs under the KL reference (the base model with adapters off under LoRA)."""
    with policy.reference() as ref, autocast(policy.device, policy.autocast_dtype):
        share = share_prefix and not checkpointing(ref)
        logits, _ = _forward(
            ref, rollout, slice(0, rollout.n), share, policy.tokenizer.pad_token_id, False
        )
        return token_logprobs(logits, rollout.completion_ids, temperature)
