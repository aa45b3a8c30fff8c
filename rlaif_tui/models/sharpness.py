"""A learned sharpness: one scalar that scales the policy's logits, trained by the RL loss.

A warm start that samples well at a lower temperature than the one RL samples at leaves
reward on the table that no single small weight step reaches: on a tiny byte-level policy
the landscape around the warm start is sharp in almost every direction (`scripts/
gradient_probe.py`), but not along the logits' common scale. This module adds that one
direction as its own parameter `g`: the final norm's output is multiplied by `exp(g)`, so the
logits are multiplied by it too (the output head is linear, without bias). The RL gradient
says whether passing completions want a sharper or a flatter distribution; `optim.
sharpness_lr` sets how fast `g` follows it.

After every optimizer step the scale is folded into the final norm's weight and bias and `g`
goes back to 0, so a checkpoint is a plain model (no extra tensor, nothing for `rlaif eval`
or a hub upload to know about) and the reference copy is never touched.
"""

from __future__ import annotations

from typing import Any

import torch

FINAL_NORMS = ("ln_f", "norm", "final_layer_norm", "final_layernorm")
"""Names of the norm before the output head in GPT-2, Llama/Qwen, OPT and others."""


class SharpnessError(ValueError):
    pass


def final_norm(model: torch.nn.Module) -> torch.nn.Module:
    """The last module named like a final norm, with a trainable weight."""
    found: torch.nn.Module | None = None
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in FINAL_NORMS and isinstance(
            getattr(module, "weight", None), torch.nn.Parameter
        ):
            found = module
    if found is None:
        raise SharpnessError(
            "optim.sharpness_lr: no final norm (one of " + ", ".join(FINAL_NORMS) + ") found"
        )
    if not _affine(found)[0].requires_grad:
        raise SharpnessError(
            "optim.sharpness_lr: the final norm is frozen (LoRA); it needs full fine-tuning"
        )
    return found


def _affine(norm: torch.nn.Module) -> tuple[torch.nn.Parameter, torch.Tensor | None]:
    """The norm's weight and its bias (None for RMSNorm)."""
    weight = getattr(norm, "weight")  # noqa: B009 - typed through the isinstance below
    bias = getattr(norm, "bias", None)
    assert isinstance(weight, torch.nn.Parameter)
    return weight, bias if isinstance(bias, torch.Tensor) else None


class Sharpness:
    """The scalar `g` and the hook that applies it; `fold()` after each optimizer step."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.norm = final_norm(model)
        self.weight, self.bias = _affine(self.norm)
        self.log_scale = torch.nn.Parameter(torch.zeros((), device=self.weight.device))
        self.total = 1.0
        """The product of every folded scale: how much sharper than the start the policy is."""
        self._handle = self.norm.register_forward_hook(self._scale)

    def _scale(self, _module: torch.nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        return output * self.log_scale.exp().to(output.dtype)

    def fold(self) -> None:
        """Move `exp(g)` into the final norm's affine parameters; `g` back to 0."""
        with torch.no_grad():
            scale = self.log_scale.exp()
            if float(scale) == 1.0:
                return
            self.weight.mul_(scale.to(self.weight.dtype))
            if self.bias is not None:
                self.bias.mul_(scale.to(self.bias.dtype))
            self.total *= float(scale)
            self.log_scale.zero_()

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Fold after every step `optimizer` takes (and, under torch.distributed, average the
        scale's gradient first: it lives outside the DDP-wrapped module)."""
        optimizer.register_step_pre_hook(lambda *_args: self._average_grad())
        optimizer.register_step_post_hook(lambda *_args: self.fold())

    def _average_grad(self) -> None:
        grad = self.log_scale.grad
        if grad is None or not torch.distributed.is_initialized():
            return
        torch.distributed.all_reduce(grad)
        grad.div_(torch.distributed.get_world_size())

    def remove(self) -> None:
        self._handle.remove()
