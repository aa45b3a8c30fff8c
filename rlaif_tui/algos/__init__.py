"""Pure loss functions, one module per algorithm; each names its paper and equation.

Nothing here touches models, data or I/O: tensors in, tensors out, so each is tested on
hand-computed cases.
"""

ALGORITHMS = ("grpo", "rloo", "ppo", "dpo")
"""Algorithms `rlaif train` runs; `dpo` is offline with `dpo.pairs`, else online."""

GRPO_LOSS_TYPES = ("dapo", "grpo", "dr_grpo")
"""Ways to aggregate per-token GRPO losses (see `grpo.aggregate`)."""

DPO_LOSS_TYPES = ("sigmoid", "ipo")
"""DPO losses (see `dpo.dpo_loss`): `sigmoid` (Rafailov et al.) and `ipo` (Azar et al.)."""

__all__ = ["ALGORITHMS", "DPO_LOSS_TYPES", "GRPO_LOSS_TYPES"]
