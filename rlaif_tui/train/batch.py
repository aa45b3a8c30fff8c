"""A step's batch as one object: groups sampled and scored, and what the update needs with them.

`Groups` holds the parallel per-group (`problems`, `indices`, `prompts`) and per-completion
(`rollout` rows, `programs`, `scored`) fields together, so replacing a group (DAPO dynamic
sampling, self-repair) is one call, `replace_groups`, instead of a splice of a dozen lists.
`Batch` adds the forwards computed before the update and the step's timings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from rlaif_tui.api.samples import Sample
from rlaif_tui.data import Problem
from rlaif_tui.models.rollout import Rollout
from rlaif_tui.scoring.pending import Scored, batch_metrics
from rlaif_tui.scoring.records import sample_records
from rlaif_tui.train.logprobs import Forward

T = TypeVar("T")


@dataclass
class Groups:
    problems: list[Problem]
    """One per group (G)."""
    indices: list[int]
    """Each group's problem index in the training set (for the curriculum sampler)."""
    prompts: list[str]
    """Each group's prompt text."""
    rollout: Rollout
    """N = G * group_size completions, group by group."""
    programs: list[str]
    """The program each completion becomes (`models.program.to_program`)."""
    scored: Scored
    """Rewards, per-source values, outcomes and flags of each completion."""

    @property
    def group_size(self) -> int:
        return self.rollout.group_size


Moves = list[tuple[slice, slice]]
"""(positions in `have`, positions in `new`) pairs."""


def _splice(mine: Sequence[T], theirs: Sequence[T], moves: Moves) -> list[T]:
    out = list(mine)
    for a, b in moves:
        out[a] = theirs[b]
    return out


def replace_groups(have: Groups, slots: Sequence[int], new: Groups, pad_id: int) -> Groups:
    """`have` with its groups at positions `slots` swapped, in order, for `new`'s groups
    0, 1, ... (extra slots or extra new groups are ignored). Completions are right-padded to
    the wider of the two rollouts."""
    k = have.group_size
    pairs = list(zip(slots, range(len(new.problems)), strict=False))
    groups: Moves = [(slice(g, g + 1), slice(j, j + 1)) for g, j in pairs]
    rows: Moves = [(slice(g * k, (g + 1) * k), slice(j * k, (j + 1) * k)) for g, j in pairs]
    r, r2 = have.rollout, new.rollout
    width = max(r.completion_ids.shape[1], r2.completion_ids.shape[1])

    def tensor(name: str, fill: float) -> torch.Tensor:
        def widen(x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.pad(x, (0, width - x.shape[1]), value=fill)

        out, theirs = widen(getattr(r, name)), widen(getattr(r2, name))
        for a, b in rows:
            out[a] = theirs[b]
        return out

    s, s2 = have.scored, new.scored
    per_source = {n: _splice(v, s2.per_source[n], rows) for n, v in s.per_source.items()}
    outcomes = _splice(s.outcomes, s2.outcomes, rows)
    scored = Scored(
        rewards=_splice(s.rewards, s2.rewards, rows),
        per_source=per_source,
        outcomes=outcomes,
        flags=_splice(s.flags, s2.flags, rows),
        wait_s=s.wait_s + s2.wait_s,
        metrics=batch_metrics(per_source, outcomes),
    )
    rollout = Rollout(
        prompt_ids=_splice(r.prompt_ids, r2.prompt_ids, groups),
        group_size=k,
        completion_ids=tensor("completion_ids", pad_id),
        mask=tensor("mask", 0),
        sample_logp=tensor("sample_logp", 0.0),
        texts=_splice(r.texts, r2.texts, rows),
        finish=_splice(r.finish, r2.finish, rows),
    )
    return Groups(
        problems=_splice(have.problems, new.problems, groups),
        indices=_splice(have.indices, new.indices, groups),
        prompts=_splice(have.prompts, new.prompts, groups),
        rollout=rollout,
        programs=_splice(have.programs, new.programs, rows),
        scored=scored,
    )


@dataclass
class Batch(Groups):
    """The groups of a step ready for the update."""

    ref_logp: torch.Tensor | None = None
    """(N, C) reference log-probs when the KL term needs them."""
    first: Forward | None = None
    """The policy forward with gradients, computed while the sandbox ran (single-pass update)."""
    timings: dict[str, float] = field(default_factory=dict)

    def records(
        self,
        step: int,
        groups: Sequence[int],
        scored: Scored,
        advantages: Sequence[float] | None = None,
    ) -> list[Sample]:
        """The batch's sample records (`scoring.records`; advantage 0 before the update) in
        their wire form from here on (samples.jsonl, hooks, other ranks). `groups`: each
        group's position in the step's whole batch (`DistContext.slots`)."""
        n = self.rollout.n
        built = sample_records(
            step,
            self.problems,
            self.group_size,
            self.prompts,
            self.rollout.texts,
            self.programs,
            scored,
            advantages if advantages is not None else [0.0] * n,
            self.rollout.finish,
            groups=groups,
        )
        return [r.wire() for r in built]

    def step_metrics(self, step_s: float) -> dict[str, float]:
        """Timings and throughput of a step that took `step_s` seconds."""
        n = self.rollout.n
        tokens = float(self.rollout.mask.sum())
        return {
            **self.timings,
            "time/step_s": step_s,
            "time/reward_wait_share": self.timings["time/reward_wait_s"] / step_s,
            "throughput/completions_per_s": n / step_s,
            "throughput/tokens_per_s": tokens / step_s,
            "completion/mean_tokens": tokens / n,
        }
