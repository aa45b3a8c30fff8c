"""Token, cost and fault counters of a judge, read out as `judge/...` metrics once per step."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Meter:
    price_input_per_mtok: float = 0.0
    price_output_per_mtok: float = 0.0
    counts: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, key: str, amount: float = 1.0) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0.0) + amount
            self.totals[key] = self.totals.get(key, 0.0) + amount

    def tokens(self, input_tokens: int, output_tokens: int) -> None:
        cost = (
            input_tokens * self.price_input_per_mtok + output_tokens * self.price_output_per_mtok
        ) / 1e6
        self.add("input_tokens", input_tokens)
        self.add("output_tokens", output_tokens)
        self.add("tokens", input_tokens + output_tokens)
        self.add("cost_usd", cost)

    def drain(self, prefix: str = "judge") -> dict[str, float]:
        """Counts since the last drain as `<prefix>/<key>`, plus run totals of tokens and cost."""
        with self._lock:
            out = {f"{prefix}/{k}": v for k, v in self.counts.items()}
            for key in ("tokens", "cost_usd"):
                out[f"{prefix}/{key}"] = self.counts.get(key, 0.0)
                out[f"{prefix}/{key}_total"] = self.totals.get(key, 0.0)
            self.counts.clear()
        return out
