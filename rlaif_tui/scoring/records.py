"""Sample records (docs/architecture.md): one per completion, for samples.jsonl and the daemon.

Built here and nowhere else, as `api.samples.SampleRecord` (the one definition of the shape);
the trainer sends `SampleRecord.wire()` on.
"""

from __future__ import annotations

from collections.abc import Sequence

from rlaif_tui.api.samples import SampleRecord
from rlaif_tui.data import Problem
from rlaif_tui.scoring.pending import Scored


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
) -> list[SampleRecord]:
    """`groups`: each group's position in the step's whole batch, which names it (default:
    its position here; data-parallel ranks pass `DistContext.slots`)."""
    out = []
    for i, completion in enumerate(completions):
        local, j = divmod(i, group_size)
        g = local if groups is None else groups[local]
        flags = list(scored.flags[i])
        if finish[i] == "length":
            flags.append("truncated")
        # model_construct: every value is already typed by the code above (per completion, on
        # the training thread, so no second validation).
        out.append(
            SampleRecord.model_construct(
                id=sample_id(step, g, j),
                step=step,
                group_id=f"s{step:06d}-g{g:02d}",
                problem_id=problems[local].id,
                prompt=prompts[local],
                completion=completion,
                program=programs[i],
                reward=float(scored.rewards[i]),
                rewards={name: vals[i] for name, vals in scored.per_source.items()},
                advantage=float(advantages[i]),
                outcome=scored.outcomes[i],
                flags=flags,
            )
        )
    return out
