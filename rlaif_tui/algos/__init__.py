"""Pure loss functions, one module per algorithm; each names its paper and equation.

Nothing here touches models, data or I/O: tensors in, tensors out, so each is tested on
hand-computed cases.
"""

ALGORITHMS = ("grpo", "rloo", "ppo", "dpo")
"""Algorithms `rlaif train` runs; `dpo` is offline with `dpo.pairs`, else online."""

GRPO_LOSS_TYPES = ("dapo", "grpo", "dr_grpo")
"""Ways to aggregate per-token GRPO losses (see `grpo.aggregate`)."""

__all__ = ["ALGORITHMS", "GRPO_LOSS_TYPES"]
