"""Supervised warm start (SFT) of a policy on problems' reference solutions.

The quickstart's tiny model starts from random weights; GRPO learns only from groups whose
samples disagree, so the policy must already pass some of the RL prompts. A short supervised
pass on `prompt + reference` (loss on the reference tokens only) gets it there. The result is
cached under the user's cache directory, keyed by a hash of everything that determines it, so
the second start is immediate.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rlaif_tui.data import Problem
from rlaif_tui.models.context import context_length
from rlaif_tui.models.mistakes import mutate
from rlaif_tui.models.tiny import PAD_ID, TinySpec, build_tiny
from rlaif_tui.progress import progress


@dataclass(frozen=True)
class WarmStartRecipe:
    """Everything that determines the warm-started weights (hashed into the cache key)."""

    spec: TinySpec
    steps: int = 600
    batch_size: int = 64
    lr: float = 3e-3
    warmup: int = 30
    seed: int = 0
    mistake_share: float = 0.0
    """Share of drawn examples whose reference carries one realistic mistake (`mistakes`)."""


def cache_root() -> Path:
    """`$RLAIF_TUI_CACHE`, else `$XDG_CACHE_HOME/rlaif-tui`, else `~/.cache/rlaif-tui`."""
    if env := os.environ.get("RLAIF_TUI_CACHE"):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rlaif-tui"


def recipe_key(recipe: WarmStartRecipe, problems: Sequence[Problem]) -> str:
    fields = asdict(recipe)
    if not fields["mistake_share"]:  # exact references: the key of caches made before it
        del fields["mistake_share"]
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode())
    for p in problems:
        digest.update(f"{p.id}\0{p.prompt}\0{p.reference}\0".encode())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:16]


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase,
    problems: Sequence[Problem],
    context: int | None = None,
) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, reference ids + eos) for every problem that has a reference and, when
    `context` is given, fits in it (the others are listed in one warning and left out)."""
    out, too_long = [], []
    for p in problems:
        if p.reference is None:
            continue
        prompt = tokenizer(p.prompt, add_special_tokens=False).input_ids
        answer = tokenizer(p.reference, add_special_tokens=False).input_ids
        length = len(prompt) + len(answer) + 1
        if context is not None and length > context:
            too_long.append((p.id, length))
            continue
        out.append((list(prompt), [*answer, tokenizer.eos_token_id]))
    if too_long:
        shown = ", ".join(f"{pid} ({n} tokens)" for pid, n in too_long[:8])
        more = f" and {len(too_long) - 8} more" if len(too_long) > 8 else ""
        print(
            f"warning: warm start: {len(too_long)} problems have prompt + reference longer than "
            f"the model's context ({context} tokens), left out: {shown}{more}",
            file=sys.stderr,
        )
    return out


def _flawed(
    tokenizer: PreTrainedTokenizerBase,
    problems: Sequence[Problem],
    pairs: list[tuple[list[int], list[int]]],
    rng: random.Random,
    share: float,
) -> Callable[[int], tuple[list[int], list[int]]]:
    """Draw example i: its exact pair, or with probability `share` the same prompt with a
    reference carrying one mistake (a fresh one per draw; exact when none applies)."""
    refs = [p.reference for p in problems if p.reference is not None]

    def draw(i: int) -> tuple[list[int], list[int]]:
        if share <= 0 or rng.random() >= share:
            return pairs[i]
        wrong = mutate(refs[i], rng)
        if wrong is None:
            return pairs[i]
        answer = tokenizer(wrong, add_special_tokens=False).input_ids
        return pairs[i][0], [*answer, tokenizer.eos_token_id]

    return draw


def _batch(pairs: Sequence[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input ids (B, T) and labels (B, T) with -100 outside the answer."""
    width = max(len(a) + len(b) for a, b in pairs)
    ids = torch.full((len(pairs), width), PAD_ID, dtype=torch.long)
    labels = torch.full((len(pairs), width), -100, dtype=torch.long)
    for row, (prompt, answer) in enumerate(pairs):
        seq = prompt + answer
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, len(prompt) : len(seq)] = torch.tensor(answer)
    return ids, labels


def supervised_pass(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    problems: Sequence[Problem],
    recipe: WarmStartRecipe,
    on_step: Callable[[int, float], None] | None = None,
) -> None:
    """Train `model` in place on `prompt -> reference` for `recipe.steps` steps."""
    pairs = encode_pairs(tokenizer, problems, context_length(model))
    if not pairs:
        raise ValueError(
            "warm start: no problem has a reference solution that fits the model's context"
        )
    rng = random.Random(recipe.seed)
    draw = _flawed(tokenizer, problems, pairs, random.Random(recipe.seed + 1), recipe.mistake_share)
    torch.manual_seed(recipe.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.0)

    def lr_at(step: int) -> float:  # linear warm-up, then cosine decay to 10%
        if step < recipe.warmup:
            return (step + 1) / recipe.warmup
        progress = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model.train()
    order: list[int] = []
    with progress("warm start", recipe.steps, unit="step") as bar:
        for step in range(recipe.steps):
            if len(order) < recipe.batch_size:
                fresh = list(range(len(pairs)))
                rng.shuffle(fresh)
                order += fresh
            picked, order = order[: recipe.batch_size], order[recipe.batch_size :]
            ids, labels = _batch([draw(i) for i in picked])
            loss = model(
                input_ids=ids, attention_mask=(labels != -100) | (ids != PAD_ID), labels=labels
            ).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            value = float(loss.detach())
            bar.advance(note=f"loss {value:.3f}")
            if on_step is not None:
                on_step(step, value)
    model.train(False)


def warm_started_tiny(
    recipe: WarmStartRecipe,
    problems: Sequence[Problem],
    on_step: Callable[[int, float], None] | None = None,
) -> Path:
    """Path of the warm-started tiny model for `recipe`, training and caching it if needed."""
    target = cache_root() / "quickstart" / recipe_key(recipe, problems)
    if (target / "config.json").exists():
        return target
    model, tokenizer = build_tiny(recipe.spec)
    supervised_pass(model, tokenizer, problems, recipe, on_step)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(target)  # atomic: a half-written model is never found in the cache
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target
