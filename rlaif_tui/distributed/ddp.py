"""DistributedDataParallel around the policy's with-grad forward.

The trainer's forward is several network calls (the prompt prefix once per group, then the
completions against its KV cache; `models.prefix`), and DDP expects exactly one forward per
backward. `GradForward` makes those calls one module call: DDP wraps it, its parameters are
the policy's (and the PPO value head's), and gradients are averaged across ranks during
`backward()`. Sampling and the reference forward run without grad on the bare model, outside
DDP, since nothing there needs synchronising.

DDP averages gradients; the trainer scales each rank's loss so the average equals the
gradient one process would compute on the whole batch (`distributed.loss`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from rlaif_tui.distributed.context import DistContext

EXTRA_KEY = "ddp_forward"
"""Where the DDP module is kept in `Policy.extras` (logprobs.policy_forward looks there)."""

Body = Callable[[nn.Module], tuple[Tensor, Tensor | None]]
"""The network calls of one forward: model -> (logits, last hidden state or None)."""


class GradForward(nn.Module):
    def __init__(self, model: nn.Module, value_head: nn.Module | None) -> None:
        super().__init__()
        self.model = model
        self.value_head = value_head

    def forward(self, body: Body, want_values: bool) -> tuple[Tensor, Tensor | None]:
        logits, hidden = body(self.model)
        values = None
        if want_values and hidden is not None and self.value_head is not None:
            values = self.value_head(hidden)
        return logits, values


def wrap_policy(policy: Any, ctx: DistContext) -> None:
    """Wrap `policy` for data-parallel training (no-op in a single process).

    Constructing DDP broadcasts rank 0's weights, so every rank starts identical; the frozen
    KL reference (full fine-tuning) is broadcast too.
    """
    if not ctx.enabled:
        return
    module = GradForward(policy.model, policy.value_head)
    # Buffers are constants (causal masks): synced once at construction, not every forward.
    # torch 2.15 renamed `broadcast_buffers`; older releases only know the old name.
    params = inspect.signature(DistributedDataParallel).parameters
    buffers: dict[str, Any] = (
        {"forward_sync_buffers": False}
        if "forward_sync_buffers" in params
        else {"broadcast_buffers": False}
    )
    policy.extras[EXTRA_KEY] = DistributedDataParallel(
        module,
        device_ids=None,  # the module is already on this rank's device; inputs are closures
        **buffers,
    )
    if policy.frozen_reference is not None:
        for tensor in policy.frozen_reference.state_dict().values():
            dist.broadcast(tensor, src=0)


def grad_forward(policy: Any) -> Callable[[Body, bool], tuple[Tensor, Tensor | None]] | None:
    """The DDP module if the policy is wrapped, else None."""
    module = policy.extras.get(EXTRA_KEY)
    return None if module is None else module


def parameters_equal_across_ranks(policy: Any, ctx: DistContext) -> bool:
    """Whether every rank holds the same trainable weights (a check for tests and doctors)."""
    if not ctx.enabled:
        return True
    flat = torch.cat([p.detach().reshape(-1).double() for p in policy.trainable_parameters()])
    hi, lo = flat.clone().to(ctx.device), flat.clone().to(ctx.device)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    return bool(torch.equal(hi, lo))
