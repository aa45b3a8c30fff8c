"""Our side of `rlaif bench train`: the real Trainer on the pinned workload.

Run as `python -m rlaif_tui.bench.train_ours OUT.json` so both systems get a fresh process
with the same environment (threads, allocator).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rlaif_tui.bench import workload as wl


def config(model_dir: Path, problems: Path) -> Any:
    from rlaif_tui.config.train import TrainConfig

    return TrainConfig.model_validate(
        {
            "run": {
                "name": "bench",
                "seed": 42,
                "steps": len(wl.SCHEDULE),
                "checkpoint_every": 0,
                "save_final": False,
                "tensorboard": False,
                "samples_per_step": 0,
            },
            "model": {
                "source": "hf",
                "name": str(model_dir),
                "device": "cpu",
                "dtype": "float32",
                "torch_threads": 2,
                "chat_template": "never",
            },
            "data": {
                "problems": str(problems),
                "split": None,
                "order": "sequential",
                "append_eos": True,
            },
            "rollout": {
                "prompts_per_step": 8,
                "group_size": wl.GROUP,
                "temperature": 1.0,
                "top_p": 1.0,
                "max_new_tokens": wl.MAX_NEW,
                "stop": [],
                "share_prefix": True,
            },
            "algorithm": "grpo",
            "grpo": {
                "loss_type": "dapo",
                "epsilon_low": 0.2,
                "epsilon_high": 0.2,
                "scale_rewards": "group",
                "inner_epochs": 1,
            },
            "kl": {"estimator": "k3", "coef": wl.BETA},
            "optim": {"lr": wl.LR, "schedule": "linear", "warmup_steps": 0, "max_grad_norm": 1.0},
            "reward": {"weights": {"execution": 1.0}},
        }
    )


def run() -> dict[str, Any]:
    from rlaif_tui.train.trainer import Trainer

    model_dir, sha = wl.pinned_model_dir()
    with tempfile.TemporaryDirectory() as tmp:
        problems = wl.problems_file(Path(tmp))
        reward = wl.WorkloadReward()
        trainer = Trainer.from_config(
            config(model_dir, problems), Path(tmp) / "run", sources=[reward]
        )
        steps = []
        while not trainer.done:
            t0 = time.perf_counter()
            result = trainer.step()
            wall = time.perf_counter() - t0
            m = result.metrics
            steps.append(
                {
                    "step_s": wall,
                    "generate_s": m["time/generate_s"],
                    "reference_s": m["time/reference_s"],
                    "train_s": m["time/train_s"],
                    "reward_wait_s": m["time/reward_wait_s"],
                    "completions": len(result.samples),
                    "tokens": m["completion/mean_tokens"] * len(result.samples),
                    "reward_mean": m["reward/mean"],
                    "loss": m["loss/total"],
                }
            )
            # one line per step on stderr: `rlaif bench train` streams it as progress
            print(
                f"step {len(steps)}/{len(wl.SCHEDULE)}: {wall:.2f} s "
                f"(reward {m['reward/mean']:.3f})",
                file=sys.stderr,
                flush=True,
            )
        trainer.close()
        schedule = [[int(i.split("/")[1].split("@")[0]) for i in ids] for ids in reward.seen]
    return {
        "system": "rlaif-tui",
        "state_sha256": sha,
        "state_sha256_matches": sha == wl.STATE_SHA256,
        "schedule_matches": schedule == wl.SCHEDULE,
        "steps": steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(run()))
