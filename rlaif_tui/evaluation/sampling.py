"""Sample n completions per problem from a policy, the way training samples them.

The same prompt encoding (`models.program.encode_prompt`), the same KV-cached sampler
(`models.rollout.generate`, one shared prompt prefix per problem) and the same completion ->
program mapping (`models.program.to_program`) as a training step, so a number measured here
means what the training-time `pass/rate` means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from rlaif_tui.config.train import DEFAULT_STOPS
from rlaif_tui.data import Problem
from rlaif_tui.models.program import encode_prompt, to_program
from rlaif_tui.models.rollout import generate


@dataclass(frozen=True)
class Sampling:
    """How completions are drawn."""

    n: int = 20
    """Completions per problem."""
    temperature: float = 0.8
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: Sequence[str] = field(default_factory=lambda: tuple(DEFAULT_STOPS))
    show_public_tests: bool = False
    append_eos: bool = False
    seed: int = 1234
    rows_per_chunk: int = 128
    """Upper bound on completions sampled in one batch (a problem's n always stay together)."""


@dataclass
class Samples:
    """Completions and the programs the sandbox runs, one list per problem."""

    prompts: list[str]
    completions: list[list[str]]
    programs: list[list[str]]


def sample_policy(
    policy: Any,
    problems: Sequence[Problem],
    sampling: Sampling,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Samples:
    """`sampling.n` completions for each problem (seeded: the same call samples the same)."""
    if sampling.n < 1:
        raise ValueError(f"n must be >= 1, got {sampling.n}")
    tok = policy.tokenizer
    chat = bool(policy.use_chat_template)
    gen = torch.Generator(device=policy.device).manual_seed(sampling.seed)
    per_chunk = max(1, sampling.rows_per_chunk // sampling.n)
    out = Samples([], [], [])
    was_training = policy.model.training
    policy.model.eval()
    try:
        for start in range(0, len(problems), per_chunk):
            chunk = problems[start : start + per_chunk]
            encoded = [
                encode_prompt(
                    tok,
                    p,
                    chat=chat,
                    show_public_tests=sampling.show_public_tests,
                    append_eos=sampling.append_eos,
                )
                for p in chunk
            ]
            rollout = generate(
                policy.model,
                tok,
                [ids for _, ids in encoded],
                sampling.n,
                max_new_tokens=sampling.max_new_tokens,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                stop=list(sampling.stop),
                generator=gen,
            )
            for g, problem in enumerate(chunk):
                texts = rollout.texts[g * sampling.n : (g + 1) * sampling.n]
                out.prompts.append(encoded[g][0])
                out.completions.append(list(texts))
                out.programs.append([to_program(problem, t, chat=chat) for t in texts])
            if progress is not None:
                progress(min(start + per_chunk, len(problems)), len(problems))
    finally:
        policy.model.train(was_training)
    return out
