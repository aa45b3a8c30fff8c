"""Collect a step's batch: sample groups chunk by chunk while the reward sources score them,
self-repair and DAPO dynamic sampling (both replace groups, `batch.replace_groups`), and the
forwards the update needs, overlapped with the sandbox when the rewards can wait.

Functions of the `Trainer` (they read its policy, sampler, sources and live settings).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rlaif_tui.data import Problem
from rlaif_tui.feedback.repair import repair_pair, repair_prompt
from rlaif_tui.models.program import encode_prompt, to_program
from rlaif_tui.models.rollout import Rollout, concat_rollouts, generate
from rlaif_tui.scoring import pending as score_phase
from rlaif_tui.scoring.sources import ScoreRequest
from rlaif_tui.train import advantages as adv_math
from rlaif_tui.train.batch import Batch, Groups, replace_groups
from rlaif_tui.train.logprobs import Forward, policy_forward, reference_logprobs

if TYPE_CHECKING:
    from rlaif_tui.train.trainer import Trainer


def prompt_ids(t: Trainer, problem: Problem) -> tuple[str, list[int]]:
    return encode_prompt(
        t.policy.tokenizer,
        problem,
        chat=t.policy.use_chat_template,
        show_public_tests=t.cfg.data.show_public_tests,
        append_eos=t.cfg.data.append_eos,
    )


def generator(t: Trainer, step: int, round_: int, slot: int = 0) -> torch.Generator:
    """Seeded by the chunk's first group's position in the step's whole batch, so a chunk
    samples the same completions whichever rank (or how many ranks) it runs on."""
    g = torch.Generator(device=t.policy.device)
    g.manual_seed(t.cfg.run.seed * 1_000_003 + step * 7_919 + round_ + slot * 104_729)
    return g


def sample_groups(
    t: Trainer, step: int, round_: int, problems: list[Problem], slots: list[int] | None = None
) -> tuple[list[str], Rollout, list[str], score_phase.PendingChunks]:
    """Sample the groups of `problems` chunk by chunk, sending each chunk to the reward
    sources as soon as it is sampled. `slots` are the groups' positions in the step's
    whole batch (default: this rank's share, `DistContext.slots`)."""
    texts, ids = zip(*(prompt_ids(t, p) for p in problems), strict=True)
    r = t.cfg.rollout
    k = r.group_size
    chat = t.policy.use_chat_template
    t.policy.model.eval()
    slots = slots if slots is not None else t.dist.slots(len(problems))
    size = r.chunk_groups or len(problems)
    parts, programs, pending = [], [], []
    for start in range(0, len(problems), size):
        gen = generator(t, step, round_, slots[start])
        part = generate(
            t.policy.model,
            t.policy.tokenizer,
            list(ids[start : start + size]),
            k,
            max_new_tokens=r.max_new_tokens,
            temperature=t.temperature,
            top_p=r.top_p,
            stop=r.stop,
            generator=gen,
        )
        progs = [
            to_program(problems[start + i // k], c, chat=chat) for i, c in enumerate(part.texts)
        ]
        requests = [
            ScoreRequest(
                f"s{step:06d}-r{round_}-{start * k + i:04d}",
                problems[start + i // k],
                texts[start + i // k],
                c,
                progs[i],
            )
            for i, c in enumerate(part.texts)
        ]
        pending.append(score_phase.submit(t.sources, requests, t.weights))
        parts.append(part)
        programs += progs
    rollout = concat_rollouts(parts, pad_id(t))
    return list(texts), rollout, programs, score_phase.PendingChunks(pending)


def collect(t: Trainer, step: int) -> Batch:
    cfg = t.cfg
    indices = t.dist.shard(t.sampler.indices(step))  # whole groups per rank
    problems = [t.problems[i] for i in indices]
    t._set_phase("generating")
    t0 = time.perf_counter()
    prompts, rollout, programs, pending = sample_groups(t, step, 0, problems)
    gen_s = time.perf_counter() - t0
    t._set_phase("scoring")
    # Repair and dynamic sampling need the rewards before the forwards; otherwise the
    # sandbox runs the programs while the forwards are computed (overlap).
    overlap = not (cfg.grpo.dynamic_sampling or cfg.repair.enabled)
    groups: Groups | None = None
    if not overlap:
        groups = Groups(problems, indices, prompts, rollout, programs, pending.wait())
        groups, more_gen_s = resample(t, step, groups)
        gen_s += more_gen_s
        rollout = groups.rollout
    t2 = time.perf_counter()
    ref = (
        reference_logprobs(t.policy, rollout, t.temperature, cfg.rollout.share_prefix)
        if t.policy.has_reference
        else None
    )
    t3 = time.perf_counter()
    single = cfg.grpo.inner_epochs == 1 and cfg.grpo.minibatches == 1
    first = first_forward(t, rollout) if single else None
    t4 = time.perf_counter()
    if groups is None:
        groups = Groups(problems, indices, prompts, rollout, programs, pending.wait())
    timings = {
        "time/generate_s": gen_s,
        "time/reference_s": t3 - t2 if overlap else 0.0,
        "time/reward_wait_s": groups.scored.wait_s,
        "_forward_s": t4 - t3 if overlap else t4 - t2,
    }
    return Batch(**vars(groups), ref_logp=ref, first=first, timings=timings)


def resample(t: Trainer, step: int, groups: Groups) -> tuple[Groups, float]:
    """Self-repair, then DAPO dynamic sampling: zero-variance groups are replaced by fresh
    ones for up to `grpo.max_resample_rounds` rounds. Returns the groups and the time spent
    sampling (reward waits are in `scored.wait_s`)."""
    cfg = t.cfg
    gen_s = 0.0
    if cfg.repair.enabled:
        t1 = time.perf_counter()
        before = groups.scored.wait_s
        groups = repair(t, step, groups)
        gen_s += time.perf_counter() - t1 - (groups.scored.wait_s - before)
    rounds = cfg.grpo.max_resample_rounds if cfg.grpo.dynamic_sampling else 0
    for round_ in range(1, rounds + 1):
        zero = adv_math.zero_variance_groups(
            np.array(groups.scored.rewards), cfg.rollout.group_size
        )
        if not zero.any():
            break
        t1 = time.perf_counter()
        extra = t.dist.shard(t.sampler.indices(step + round_ * 1_000_000))
        extra = extra[: int(zero.sum())]
        more_p = [t.problems[i] for i in extra]
        p2, r2, prog2, pending2 = sample_groups(t, step, round_, more_p)
        gen_s += time.perf_counter() - t1
        fresh = Groups(more_p, extra, p2, r2, prog2, pending2.wait())
        groups = replace_groups(groups, list(np.flatnonzero(zero)), fresh, pad_id(t))
    return groups, gen_s


def repair(t: Trainer, step: int, have: Groups) -> Groups:
    """Self-repair (feedback.repair): groups where every sample failed are replaced by a
    group of revisions of one failed attempt, shown what went wrong."""
    problems, prompts, rollout, scored = have.problems, have.prompts, have.rollout, have.scored
    k = t.cfg.rollout.group_size
    exe = scored.per_source.get("execution")
    if exe is None:
        return have
    chosen = [
        g
        for g in range(len(problems))
        if all(v is not None and v <= 0 for v in exe[g * k : (g + 1) * k])
    ][: t.cfg.repair.max_groups]
    if not chosen:
        return have
    positions: Any = getattr(t.policy.model.config, "n_positions", None) or getattr(
        t.policy.model.config, "max_position_embeddings", 2048
    )
    budget = int(positions) - t.cfg.rollout.max_new_tokens - 8  # chars >= tokens
    fixes, kept = [], []
    for g in chosen:
        text = repair_prompt(
            problems[g].prompt,
            rollout.texts[g * k],
            scored.outcomes[g * k],
            max_chars=budget,
        )
        if text is not None:
            fixes.append(problems[g].model_copy(update={"prompt": text}))
            kept.append(g)
    if len(kept) < len(chosen):
        t.scoring.note({"repair/skipped": float(len(chosen) - len(kept))})
    chosen = kept
    if not chosen:
        return have
    p2, r2, prog2, pending2 = sample_groups(t, step, 50, fixes)
    s2 = pending2.wait()
    fixed_exe = s2.per_source.get("execution") or [None] * len(r2.texts)
    pairs = []
    for j, g in enumerate(chosen):
        for row in range(j * k, (j + 1) * k):
            value = fixed_exe[row]
            pair = repair_pair(prompts[g], rollout.texts[g * k], r2.texts[row])
            if value is not None and value > 0 and pair is not None:
                pairs.append(pair)
                break
    t.scoring.add_pairs(pairs)
    t.scoring.note({"repair/groups": float(len(chosen)), "repair/fixed": len(pairs)})
    fresh = Groups(fixes, [have.indices[g] for g in chosen], p2, r2, prog2, s2)
    return replace_groups(have, chosen, fresh, pad_id(t))


def pad_id(t: Trainer) -> int:
    return int(t.policy.tokenizer.pad_token_id)


def first_forward(t: Trainer, rollout: Rollout) -> Forward:
    t.policy.model.train()
    ppo = t.cfg.algorithm == "ppo"
    return policy_forward(
        t.policy,
        rollout,
        t.temperature,
        grad=True,
        share_prefix=t.cfg.rollout.share_prefix,
        want_values=ppo,
        want_entropy=ppo,
    )
