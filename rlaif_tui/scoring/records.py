"""Sample records (docs/architecture.md): one per completion, for samples.jsonl and the daemon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlaif_tui.data import Problem
from rlaif_tui.scoring.pending import Scored

Sample = dict[str, Any]
"""A sample record: `id`, `step`, `group_id`, `problem_id`, `prompt`, `completion`, `program`,
`reward`, `rewards` (per source), `advantage`, `outcome`, `flags` (docs/architecture.md)."""


def sample_id(step: int, group: int, index: int) -> str:
    """The id of the `index`-th completion of the `group`-th group of a step's batch."""
    return f"s{step:06d}-g{group:02d}-{index:02d}"


def sample_records(
    step: int,
    problems: Sequence[Problem],
    group_size: int,
    prompts: Sequence[str],
    completions: Sequence[str],
    programs: Sequence[str],
    scored: Scored,
    advantages: Sequence[float],
    finish: Sequence[str],
    groups: Sequence[int] | None = None,
) -> list[Sample]:
    """`groups`: each group's position in the step's whole batch, which names it (default:
    its position here; data-parallel ranks pass `DistContext.slots`)."""
    out = []
    for i, completion in enumerate(completions):
        local, j = divmod(i, group_size)
        g = local if groups is None else groups[local]
        flags = list(scored.flags[i])
        if finish[i] == "length":
            flags.append("truncated")
        out.append(
            {
                "id": sample_id(step, g, j),
                "step": step,
                "group_id": f"s{step:06d}-g{g:02d}",
                "problem_id": problems[local].id,
                "prompt": prompts[local],
                "completion": completion,
                "program": programs[i],
                "reward": scored.rewards[i],
                "rewards": {name: vals[i] for name, vals in scored.per_source.items()},
                "advantage": float(advantages[i]),
                "outcome": scored.outcomes[i],
                "flags": flags,
            }
        )
    return out
