"""A Bradley-Terry reward model: a transformer with a scalar head, trained on preference pairs.

The model is `AutoModelForSequenceClassification` with one label (a linear head on the last
non-padding token, as TRL's RewardTrainer uses). For a pair (chosen, rejected) of the same
prompt the Bradley-Terry likelihood is P(chosen > rejected) = sigma(r_c - r_r), so the loss is
-log sigma(r_c - r_r) (Ouyang et al. 2022, eq. 1; Bradley & Terry 1952). Held-out pair accuracy
(the share of unseen pairs with r_c > r_r) says whether it generalises.

As a reward source its value is sigma(r) in (0, 1), on the same scale as the execution reward.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from rlaif_tui.feedback.pairs import Pair

META = "reward_model.json"


@dataclass
class FitReport:
    train_pairs: int
    heldout_pairs: int
    steps: int
    train_loss: float
    train_accuracy: float
    heldout_accuracy: float | None

    def metrics(self, prefix: str = "rm") -> dict[str, float]:
        out = {
            f"{prefix}/train_pairs": float(self.train_pairs),
            f"{prefix}/loss": self.train_loss,
            f"{prefix}/train_accuracy": self.train_accuracy,
        }
        if self.heldout_accuracy is not None:
            out[f"{prefix}/heldout_accuracy"] = self.heldout_accuracy
        return out


def bt_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry negative log-likelihood, mean over pairs; inputs (B,)."""
    return -F.logsigmoid(chosen - rejected).mean()


class RewardModel:
    """Scores (prompt, completion) texts with a scalar; trainable on pairs."""

    def __init__(self, model: Any, tokenizer: Any, max_length: int = 512) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id

    # ----- construction ----------------------------------------------------------------

    @classmethod
    def from_backbone(cls, name_or_path: str, max_length: int = 512, seed: int = 0) -> RewardModel:
        """A fresh scalar head on a pretrained backbone (a causal LM checkpoint works)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        torch.manual_seed(seed)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # "score.weight newly initialized" is the point here
        try:
            model = AutoModelForSequenceClassification.from_pretrained(name_or_path, num_labels=1)
        finally:
            hf_logging.set_verbosity(verbosity)
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        return cls(model, tokenizer, max_length)

    @classmethod
    def load(cls, path: str | Path) -> RewardModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        meta = json.loads((path / META).read_text(encoding="utf-8"))
        model = AutoModelForSequenceClassification.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        return cls(model, tokenizer, int(meta["max_length"]))

    def save(self, path: str | Path, report: FitReport | None = None) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        meta: dict[str, Any] = {"max_length": self.max_length}
        if report is not None:
            meta["fit"] = report.__dict__
        (path / META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return path

    @property
    def device(self) -> torch.device:
        device: torch.device = next(self.model.parameters()).device
        return device

    # ----- scoring -----------------------------------------------------------------------

    def _encode(
        self, prompts: Sequence[str], completions: Sequence[str]
    ) -> dict[str, torch.Tensor]:
        tok = self.tokenizer
        rows: list[list[int]] = []
        for p, c in zip(prompts, completions, strict=True):
            ids = list(tok(p + c, add_special_tokens=False).input_ids)
            rows.append(ids[-self.max_length :] or [int(tok.pad_token_id)])  # keep the end
        width = max(len(r) for r in rows)
        pad = int(tok.pad_token_id)
        ids_t = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids_t[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return {"input_ids": ids_t.to(self.device), "attention_mask": mask.to(self.device)}

    def forward(self, prompts: Sequence[str], completions: Sequence[str]) -> torch.Tensor:
        """Raw scalar rewards (B,), with gradients."""
        out = self.model(**self._encode(prompts, completions))
        logits: torch.Tensor = out.logits
        return logits.squeeze(-1)

    @torch.no_grad()
    def score(
        self, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 32
    ) -> list[float]:
        was = self.model.training
        self.model.eval()
        out: list[float] = []
        for i in range(0, len(prompts), batch_size):
            r = self.forward(prompts[i : i + batch_size], completions[i : i + batch_size])
            out.extend(float(x) for x in r.float().cpu())
        self.model.train(was)
        return out

    def pair_accuracy(self, pairs: Sequence[Pair]) -> float:
        if not pairs:
            return float("nan")
        prompts = [p.prompt for p in pairs]
        chosen = self.score(prompts, [p.chosen for p in pairs])
        rejected = self.score(prompts, [p.rejected for p in pairs])
        return sum(c > r for c, r in zip(chosen, rejected, strict=True)) / len(pairs)

    # ----- training ----------------------------------------------------------------------

    def fit(
        self,
        train: Sequence[Pair],
        heldout: Sequence[Pair] = (),
        *,
        lr: float = 1e-4,
        epochs: int = 3,
        batch_size: int = 16,
        seed: int = 0,
        on_step: Callable[[int, float], None] | None = None,
    ) -> FitReport:
        """Minimise the Bradley-Terry loss over `train` for `epochs` passes."""
        if not train:
            raise ValueError("no preference pairs to train the reward model on")
        rng = random.Random(seed)
        opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.0)
        self.model.train()
        order = list(range(len(train)))
        steps, hits, seen = 0, 0, 0
        losses: list[float] = []
        for _ in range(epochs):
            rng.shuffle(order)
            losses, hits, seen = [], 0, 0  # last epoch's figures are reported
            for i in range(0, len(order), batch_size):
                batch = [train[j] for j in order[i : i + batch_size]]
                prompts = [p.prompt for p in batch] * 2
                rewards = self.forward(
                    prompts, [p.chosen for p in batch] + [p.rejected for p in batch]
                )
                chosen, rejected = rewards[: len(batch)], rewards[len(batch) :]
                loss = bt_loss(chosen, rejected)
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                opt.step()
                steps += 1
                losses.append(float(loss.detach()))
                hits += int((chosen > rejected).sum())
                seen += len(batch)
                if on_step is not None:
                    on_step(steps, losses[-1])
        self.model.eval()
        return FitReport(
            train_pairs=len(train),
            heldout_pairs=len(heldout),
            steps=steps,
            train_loss=sum(losses) / max(1, len(losses)),
            train_accuracy=hits / max(1, seen),
            heldout_accuracy=self.pair_accuracy(heldout) if heldout else None,
        )


def split_pairs(
    pairs: Sequence[Pair], heldout_fraction: float, seed: int = 0
) -> tuple[list[Pair], list[Pair]]:
    """A seeded split that keeps all pairs of one prompt on the same side (no prompt leaks)."""
    prompts = sorted({p.prompt for p in pairs})
    random.Random(seed).shuffle(prompts)
    n_held = math.floor(len(prompts) * heldout_fraction)
    held = set(prompts[:n_held])
    return [p for p in pairs if p.prompt not in held], [p for p in pairs if p.prompt in held]


def to_unit(raw: float) -> float:
    """The reward-source value of a raw score: sigma(r) in (0, 1)."""
    return 1.0 / (1.0 + math.exp(-raw)) if raw > -700 else 0.0
