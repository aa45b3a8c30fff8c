"""Length checks against the model's context window, done once before any forward pass.

A token past the last position crashes deep inside the model (an `IndexError` in GPT-2's
position embedding, a shape error elsewhere). Checking up front turns that into a list of the
problems concerned, by id with their length, and a choice: skip them or refuse to start
(`data.too_long`). A prompt that fits but leaves less room than `max_new_tokens` clamps the
completion length, with a warning.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rlaif_tui.data import Problem

if TYPE_CHECKING:
    from rlaif_tui.config.train import TrainConfig
    from rlaif_tui.models.policy import Policy

TooLong = Literal["skip", "error"]


class ContextError(ValueError):
    """Problems do not fit the model's context window (and `data.too_long` is `error`)."""


def context_length(model: Any) -> int | None:
    """Positions the model can attend over (`max_position_embeddings`, GPT-2's `n_positions`),
    or None when its config does not say (no limit is checked then)."""
    config = getattr(model, "config", None)
    if config is None:
        return None
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(text, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


@dataclass
class Fit:
    problems: list[Problem]
    """The problems that fit, in input order."""
    max_new_tokens: int
    """`max_new_tokens`, clamped so the longest kept prompt plus it fits."""
    skipped: list[tuple[str, int]]
    """(problem id, length in tokens) of each problem left out."""


def _listing(items: Sequence[tuple[str, int]], shown: int = 8) -> str:
    head = ", ".join(f"{pid} ({n} tokens)" for pid, n in items[:shown])
    more = len(items) - shown
    return head + (f" and {more} more" if more > 0 else "")


def fit_prompts(
    problems: Sequence[Problem],
    lengths: Sequence[int],
    *,
    context: int | None,
    max_new_tokens: int,
    too_long: TooLong = "skip",
    what: str = "prompt",
    warn: Callable[[str], None] | None = None,
) -> Fit:
    """Keep the problems whose `lengths` (prompt tokens) leave room to generate; clamp
    `max_new_tokens` to what the longest kept prompt leaves."""
    say = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
    for problem, n in zip(problems, lengths, strict=True):
        if n == 0:
            raise ContextError(
                f"problem {problem.id}: the {what} encodes to zero tokens (empty prompt?)"
            )
    if context is None:
        return Fit(list(problems), max_new_tokens, [])
    kept = [(p, n) for p, n in zip(problems, lengths, strict=True) if n < context]
    skipped = [(p.id, n) for p, n in zip(problems, lengths, strict=True) if n >= context]
    if skipped:
        text = (
            f"{len(skipped)} of {len(problems)} problems have a {what} as long as the model's "
            f"context ({context} tokens) or longer: {_listing(skipped)}"
        )
        if too_long == "error" or not kept:
            raise ContextError(text + ("" if kept else "; none is left to use"))
        say(text + " (skipped; set data.too_long: error to refuse instead)")
    longest = max(n for _, n in kept)
    clamped = min(max_new_tokens, context - longest)
    if clamped < max_new_tokens:
        pid = next(p.id for p, n in kept if n == longest)
        say(
            f"max_new_tokens {max_new_tokens} clamped to {clamped}: the longest {what} "
            f"({pid}, {longest} tokens) plus {max_new_tokens} exceeds the model's context of "
            f"{context} tokens"
        )
    return Fit([p for p, _ in kept], clamped, skipped)


def fit_to_context(
    cfg: TrainConfig, policy: Policy, problems: list[Problem]
) -> tuple[list[Problem], TrainConfig]:
    """Problems whose prompt fits the policy's context, and `rollout.max_new_tokens` clamped to
    what the longest leaves: the trainer's check before its first step."""
    from rlaif_tui.models.program import encode_prompt

    lengths = [
        len(
            encode_prompt(
                policy.tokenizer,
                p,
                chat=policy.use_chat_template,
                show_public_tests=cfg.data.show_public_tests,
                append_eos=cfg.data.append_eos,
            )[1]
        )
        for p in problems
    ]
    fit = fit_prompts(
        problems,
        lengths,
        context=context_length(policy.model),
        max_new_tokens=cfg.rollout.max_new_tokens,
        too_long=cfg.data.too_long,
    )
    if fit.max_new_tokens != cfg.rollout.max_new_tokens:
        rollout = cfg.rollout.model_copy(update={"max_new_tokens": fit.max_new_tokens})
        cfg = cfg.model_copy(update={"rollout": rollout})
    return fit.problems, cfg
