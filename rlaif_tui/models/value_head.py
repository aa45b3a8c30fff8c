"""A scalar value head for PPO: V(s_t) from the policy's last hidden state at each position."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ValueHead(nn.Module):
    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.summary = nn.Linear(hidden_size, 1)
        nn.init.normal_(self.summary.weight, std=1.0 / (hidden_size + 1) ** 0.5)
        nn.init.zeros_(self.summary.bias)

    def forward(self, hidden: Tensor) -> Tensor:
        # hidden: (B, T, H) -> (B, T)
        out: Tensor = self.summary(hidden.to(self.summary.weight.dtype)).squeeze(-1)
        return out


def save_value_head(head: ValueHead, path: str) -> None:
    torch.save(head.state_dict(), path)
