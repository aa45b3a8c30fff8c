"""KL penalty to a reference policy: per-token estimators and the adaptive coefficient.

Estimators follow Schulman, "Approximating KL Divergence" (2020): with r = log q - log p for a
token sampled from the policy p and reference q,
    k1 = -r            (unbiased, high variance, can be negative)
    k3 = exp(r) - r - 1 (unbiased, always >= 0; GRPO's choice, Shao et al. 2024, eq. 4)
The adaptive controller is Ziegler et al., "Fine-Tuning Language Models from Human
Preferences" (2019), eq. 2: e_t = clip(KL_t / target - 1, -0.2, 0.2); beta <- beta(1 + K_beta e_t)
with K_beta = n_steps / horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

ESTIMATORS = ("k1", "k3")


def per_token_kl(logp: Tensor, ref_logp: Tensor, estimator: str = "k3") -> Tensor:
    """Per-token KL(policy || reference) estimate."""
    # logp, ref_logp: (B, T) log-probs of the sampled tokens under policy and reference
    log_ratio = ref_logp - logp  # (B, T)  r = log q - log p
    if estimator == "k1":
        return -log_ratio
    if estimator == "k3":
        return torch.exp(log_ratio) - log_ratio - 1
    raise ValueError(f"unknown KL estimator {estimator!r}; valid: {', '.join(ESTIMATORS)}")


@dataclass
class AdaptiveKLController:
    """Ziegler et al. 2019's proportional controller of the KL coefficient."""

    coef: float
    target: float
    horizon: int

    def update(self, current_kl: float, n_samples: int) -> float:
        """Move `coef` toward keeping the per-sequence KL at `target`; returns the new coef."""
        error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.coef *= 1.0 + error * n_samples / self.horizon
        return self.coef

    def state_dict(self) -> dict[str, float]:
        return {"coef": self.coef, "target": self.target, "horizon": float(self.horizon)}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.coef = float(state["coef"])
        self.target = float(state["target"])
        self.horizon = int(state["horizon"])


@dataclass
class FixedKLController:
    """A constant beta with the same interface as the adaptive one."""

    coef: float

    def update(self, current_kl: float, n_samples: int) -> float:
        return self.coef

    def state_dict(self) -> dict[str, float]:
        return {"coef": self.coef}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.coef = float(state["coef"])
