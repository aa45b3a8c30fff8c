"""A local judge: a Hugging Face causal LM scoring by the probability of a verdict token.

The rubric and the candidate are shown as in the HTTP judge, followed by a question whose answer
is one of two verdicts (" Yes" / " No" by default). The score is

    P(good) / (P(good) + P(bad))

of the first token where the two verdicts differ (their common prefix, e.g. a space for a
byte-level tokenizer, is appended to the prompt), read from the logits after the prompt. No
sampling, no parsing, nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge import rubric as rb
from rlaif_tui.feedback.judge.meter import Meter

QUESTION = "\nDoes the candidate meet the criteria? Answer Yes or No.\nAnswer:"


def verdict_ids(tokenizer: Any, good: str, bad: str) -> tuple[list[int], int, int]:
    """(common prefix ids, good token id, bad token id) for the two verdict strings."""
    g = list(tokenizer(good, add_special_tokens=False).input_ids)
    b = list(tokenizer(bad, add_special_tokens=False).input_ids)
    n = 0
    while n < min(len(g), len(b)) and g[n] == b[n]:
        n += 1
    if n == len(g) or n == len(b):
        raise ValueError(f"verdicts {good!r} and {bad!r} do not differ in a token of their own")
    return g[:n], int(g[n]), int(b[n])


class LocalJudge:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        cfg: JudgeConfig,
        meter: Meter | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.meter = meter or Meter()
        self.prefix, self.good_id, self.bad_id = verdict_ids(tokenizer, *cfg.verdict_tokens)
        self.system = rb.system_prompt(cfg.rubric).split("Answer with")[0].rstrip()
        limit: Any = getattr(model.config, "max_position_embeddings", None)
        self.max_tokens = int(limit or getattr(model.config, "n_positions", None) or 2048)

    @classmethod
    def from_config(cls, cfg: JudgeConfig) -> LocalJudge:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = cfg.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model: Any = AutoModelForCausalLM.from_pretrained(cfg.model)
        model.to(torch.device(device))
        return cls(model, AutoTokenizer.from_pretrained(cfg.model), cfg)

    def text(self, prompt: str, completion: str) -> str:
        user = rb.user_message(prompt, [completion], self.cfg.max_code_chars)
        return f"{self.system}\n\n{user}{QUESTION}"

    def _ids(self, prompt: str, completion: str) -> list[int]:
        ids = list(
            self.tokenizer(self.text(prompt, completion), add_special_tokens=False).input_ids
        )
        ids += self.prefix
        return ids[-self.max_tokens :]  # keep the question at the end

    @torch.no_grad()
    def score(
        self, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 8
    ) -> list[float]:
        """P(good verdict) / (P(good) + P(bad)) per (prompt, completion)."""
        device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id
        pad = int(pad if pad is not None else 0)
        out: list[float] = []
        for i in range(0, len(prompts), batch_size):
            rows = [
                self._ids(p, c)
                for p, c in zip(
                    prompts[i : i + batch_size], completions[i : i + batch_size], strict=True
                )
            ]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for j, r in enumerate(rows):
                ids[j, : len(r)] = torch.tensor(r)
                mask[j, : len(r)] = 1
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            last = mask.sum(1).to(device) - 1  # (B,) position of each row's last token
            final = logits[torch.arange(len(rows), device=device), last].float()  # (B, V)
            pair = torch.stack([final[:, self.good_id], final[:, self.bad_id]], dim=1)
            p_good = torch.softmax(pair, dim=1)[:, 0]  # renormalised over the two verdicts
            out.extend(float(x) for x in p_good.cpu())
            self.meter.add("input_tokens", float(mask.sum()))
            self.meter.add("scored", len(rows))
        return out
