"""One rank of the data-parallel equivalence test (tests/test_distributed.py).

Run as `python tests/dist_worker.py OUT` (one process) or under `torchrun --nproc-per-node 2`
(two ranks, gloo): the same tiny GRPO run either way, with a reward that varies within every
group. Rank 0 writes OUT/result.pt: the per-step loss, the sampled completions in batch order,
the trainable weights before and after, and whether all ranks ended with the same weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from train_helpers import LetterShare, tiny_config

from rlaif_tui.distributed import init_from_env
from rlaif_tui.distributed.ddp import parameters_equal_across_ranks
from rlaif_tui.train.trainer import Trainer


def main(out: Path, steps: int) -> None:
    ctx = init_from_env()
    cfg = tiny_config(
        run={"steps": steps, "checkpoint_every": 0, "save_final": False},
        model={"torch_threads": 1},
        # chunk_groups=1: each group is sampled on its own, seeded by its place in the batch,
        # so one process and two ranks sample exactly the same completions.
        rollout={"prompts_per_step": 4, "group_size": 4, "chunk_groups": 1},
        grpo={"loss_type": "dapo"},
    )
    trainer = Trainer.from_config(cfg, out / "run", sources=[LetterShare()])
    before = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters()}
    losses, completions, rewards = [], [], []
    while not trainer.done:
        result = trainer.step()
        losses.append(result.metrics["loss/total"])
        rewards.append(result.metrics["reward/mean"])
        completions.append([s["completion"] for s in result.samples])
    same = parameters_equal_across_ranks(trainer.policy, ctx)
    after = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters()}
    trainer.close()
    if ctx.is_main:
        torch.save(
            {
                "world_size": ctx.world_size,
                "losses": losses,
                "rewards": rewards,
                "completions": completions,
                "before": before,
                "after": after,
                "ranks_agree": same,
            },
            out / "result.pt",
        )
    ctx.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
