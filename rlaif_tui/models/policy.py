"""Load the policy: a hub/local causal LM or the quickstart tiny model, optional LoRA, the KL
reference, an optional value head, on the chosen device.

Under LoRA the reference is the same network with its adapters disabled (no second copy); for
full fine-tuning it is a frozen copy of the initial weights, loaded only when beta > 0.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from rlaif_tui.config.model import ModelConfig
from rlaif_tui.data import Problem
from rlaif_tui.models.device import pick_autocast, pick_device, set_threads
from rlaif_tui.models.hub import check_model_name
from rlaif_tui.models.tiny import TinySpec, build_tiny
from rlaif_tui.models.value_head import ValueHead
from rlaif_tui.models.warmstart import WarmStartRecipe, warm_started_tiny

Progress = Callable[[str, int | None, int | None], None]
"""(what, done, total): start-up progress, e.g. `building warm start`, 531, 600."""


@dataclass
class Policy:
    model: Any
    """The trainable network (a peft model under LoRA)."""
    tokenizer: Any
    device: torch.device
    autocast_dtype: torch.dtype | None
    name: str
    use_chat_template: bool
    lora: bool = False
    frozen_reference: Any = None
    """A frozen copy of the initial weights (full fine-tuning with beta > 0), else None."""
    value_head: ValueHead | None = None
    base_path: str = ""
    """Where the initial weights came from (hub name, local path or cache dir)."""
    extras: dict[str, Any] = field(default_factory=dict)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.value_head is not None:
            params += list(self.value_head.parameters())
        return params

    @contextlib.contextmanager
    def reference(self) -> Iterator[Any]:
        """The KL reference network, usable inside the `with` block."""
        if self.lora:
            with self.model.disable_adapter():
                yield self.model
        elif self.frozen_reference is not None:
            yield self.frozen_reference
        else:
            raise RuntimeError("no reference model was loaded (kl.coef was 0 at start)")

    @property
    def has_reference(self) -> bool:
        return self.lora or self.frozen_reference is not None


def _tiny_path(
    cfg: ModelConfig, problems: Sequence[Problem], on_progress: Progress | None = None
) -> tuple[Any, Any, str]:
    spec = TinySpec(
        n_embd=cfg.tiny.n_embd,
        n_layer=cfg.tiny.n_layer,
        n_head=cfg.tiny.n_head,
        n_positions=cfg.tiny.n_positions,
        dropout=0.0,
    )
    if cfg.warm_start.steps:
        recipe = WarmStartRecipe(
            spec=spec,
            steps=cfg.warm_start.steps,
            batch_size=cfg.warm_start.batch_size,
            lr=cfg.warm_start.lr,
            mistake_share=cfg.warm_start.mistake_share,
        )
        on_step = None
        if on_progress is not None:
            report = on_progress

            def on_step(step: int, loss: float) -> None:
                report("building warm start", step + 1, recipe.steps)

        path = warm_started_tiny(recipe, [p for p in problems if p.reference], on_step)
        if on_progress is not None:
            on_progress("loading model", None, None)
        model = AutoModelForCausalLM.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        return model, tokenizer, str(path)
    fresh, byte_tok = build_tiny(spec)
    return fresh, byte_tok, f"tiny:{spec}"


def _hf_path(cfg: ModelConfig, where: str) -> tuple[Any, Any]:
    check_model_name(where, cfg.revision)  # fails fast instead of through the hub's retries
    kwargs: dict[str, Any] = {"trust_remote_code": cfg.trust_remote_code}
    if cfg.revision:
        kwargs["revision"] = cfg.revision
    tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kwargs)
    return model, tokenizer


def load_policy(
    cfg: ModelConfig,
    problems: Sequence[Problem],
    *,
    need_reference: bool,
    init_from: Path | None = None,
    on_progress: Progress | None = None,
) -> Policy:
    """Build the policy described by `cfg`; `init_from` is a checkpoint directory to resume.

    `on_progress` hears about slow start-up work (the tiny model's warm start, step by step)."""
    device = pick_device(cfg.device)
    if device.type == "cpu":
        set_threads(cfg.torch_threads)
    if cfg.source == "tiny":
        model, tokenizer, base = _tiny_path(cfg, problems, on_progress)
    else:
        model, tokenizer = _hf_path(cfg, cfg.name)
        base = cfg.name
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Dropout changes what the loss computes between the rollout and the update; RL runs
    # without it (TRL's disable_dropout, recommended whenever a reference is used).
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    use_chat = cfg.chat_template == "always" or (
        cfg.chat_template == "auto" and getattr(tokenizer, "chat_template", None) is not None
    )
    frozen = None
    if cfg.lora.enabled:
        from peft import LoraConfig, PeftModel, get_peft_model

        # peft 0.21 still reads transformers' deprecated `is_gradient_checkpointing`.
        warnings.filterwarnings(
            "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
        )
        if init_from is not None:
            model = PeftModel.from_pretrained(model, init_from, is_trainable=True)
        else:
            model = get_peft_model(
                model,
                LoraConfig(
                    r=cfg.lora.r,
                    lora_alpha=cfg.lora.alpha,  # type: ignore[arg-type]  # peft accepts floats
                    lora_dropout=cfg.lora.dropout,
                    target_modules=cfg.lora.target_modules,
                    # GPT-2 style Conv1D layers store weights transposed
                    fan_in_fan_out=any(type(m).__name__ == "Conv1D" for m in model.modules()),
                    task_type="CAUSAL_LM",
                ),
            )
    else:
        if need_reference:
            frozen = copy.deepcopy(model).eval()
            for p in frozen.parameters():
                p.requires_grad_(False)
        if init_from is not None:
            model = AutoModelForCausalLM.from_pretrained(init_from, dtype=torch.float32)
            for module in model.modules():
                if isinstance(module, torch.nn.Dropout):
                    module.p = 0.0
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = True
    model.to(device)
    if frozen is not None:
        frozen.to(device)
    head = None
    if cfg.value_head:
        hidden = model.config.get_text_config().hidden_size
        head = ValueHead(hidden).to(device)
        if init_from is not None and (init_from / "value_head.pt").exists():
            head.load_state_dict(torch.load(init_from / "value_head.pt", weights_only=True))
    return Policy(
        model=model,
        tokenizer=tokenizer,
        device=device,
        autocast_dtype=pick_autocast(device, cfg.dtype),
        name=cfg.name,
        use_chat_template=use_chat,
        lora=cfg.lora.enabled,
        frozen_reference=frozen,
        value_head=head,
        base_path=base,
    )


def save_policy(policy: Policy, path: Path) -> None:
    """`save_pretrained` (adapter only under LoRA) + tokenizer + value head."""
    model: PreTrainedModel = policy.model
    model.save_pretrained(path)
    policy.tokenizer.save_pretrained(path)
    if policy.value_head is not None:
        torch.save(policy.value_head.state_dict(), path / "value_head.pt")
