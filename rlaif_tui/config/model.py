"""The `model` section of the training config: which policy, where and how it runs, LoRA, and
the tiny byte-level model with its supervised warm start (source `tiny`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["LoraConfig", "ModelConfig", "TinyModelConfig", "WarmStartConfig"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class LoraConfig(_Section):
    enabled: bool = False
    """Train LoRA adapters instead of all weights; the KL reference is the base (adapters off)."""
    r: int = Field(16, ge=1)
    """Adapter rank."""
    alpha: float = 32.0
    """Scaling numerator (the update is scaled by alpha / r)."""
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    """Dropout on the adapter input."""
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    """Module names to adapt (e.g. [q_proj, v_proj]) or `all-linear`."""


class TinyModelConfig(_Section):
    n_embd: int = Field(128, ge=8)
    """Hidden size."""
    n_layer: int = Field(4, ge=1)
    """Transformer blocks."""
    n_head: int = Field(4, ge=1)
    """Attention heads (must divide n_embd)."""
    n_positions: int = Field(256, ge=16)
    """Longest prompt + completion, in bytes."""

    @model_validator(mode="after")
    def _heads_divide(self) -> TinyModelConfig:
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_head={self.n_head} must divide n_embd={self.n_embd}; "
                "pick e.g. n_head=4 with n_embd a multiple of 4"
            )
        return self


class WarmStartConfig(_Section):
    steps: int = Field(600, ge=0)
    """Supervised steps on `prompt + reference` of the training problems (0: none)."""
    batch_size: int = Field(64, ge=1)
    """Problems per supervised step."""
    lr: float = Field(3e-3, gt=0)
    """Peak learning rate (linear warm-up, cosine decay)."""
    mistake_share: float = Field(0.0, ge=0.0, lt=1.0)
    """Share of supervised examples whose reference carries one realistic mistake (an
    off-by-one, a wrong constant, operator, comparison or max/min; `models.mistakes`), drawn
    anew each time an example is used. The tests stay right, so RL has something to fix that
    only the execution reward can teach."""


class ModelConfig(_Section):
    source: Literal["hf", "tiny"] = "hf"
    """`hf`: a hub name or local path loaded with AutoModelForCausalLM; `tiny`: a tiny byte-level
    GPT-2 built from `tiny` (no download), optionally warm-started and cached."""
    name: str = "quickstart-tiny"
    """Hub name or local directory (source `hf`), or a label (source `tiny`)."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) for source `hf`."""
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    """`auto` picks cuda, then mps, then cpu."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Autocast dtype: `auto` is bf16 on CUDA with bf16 support, fp16 on other CUDA/MPS, fp32 on
    CPU. Master weights stay float32."""
    gradient_checkpointing: bool = False
    """Trade compute for memory in the training forward (turns off prefix sharing there)."""
    torch_threads: int | None = Field(None, ge=1)
    """CPU threads for torch (None: the number of cores available to this process)."""
    chat_template: Literal["auto", "never", "always"] = "auto"
    """Wrap prompts in the tokenizer's chat template when it has one (`auto`)."""
    trust_remote_code: bool = False
    """Allow model code from the hub (only for models you trust)."""
    lora: LoraConfig = Field(default_factory=LoraConfig)
    tiny: TinyModelConfig = Field(default_factory=TinyModelConfig)
    warm_start: WarmStartConfig = Field(default_factory=lambda: WarmStartConfig(steps=0))
    """Supervised warm start of a tiny model (cached in ~/.cache/rlaif-tui/quickstart)."""
    value_head: bool = False
    """Add a scalar value head (PPO sets this itself)."""
