"""The update climbs the reward: a two-armed bandit on the tiny model, through `Trainer.step`.

One prompt (`def pick():\n    return `), two completions the warm start makes about equally
likely (`1` and `2`); the sandbox's execution reward passes only `return 1`. Whatever else is wrong
with a run (data, templates, noise), an update with the right sign, masks, temperature and KL
direction must move probability onto the rewarded arm within a few dozen steps at lr 1e-3.
The probability is computed exactly (teacher-forced over the whole completion and its eos),
not estimated from samples, so the test reads the policy itself.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from train_helpers import tiny_config

from rlaif_tui.train import collect
from rlaif_tui.train.trainer import Trainer

PROMPT = "def pick():\n    return "
GOOD, BAD = "1\n", "2\n"
STEPS = 24


def bandit_problems(path: Path) -> Path:
    """Two training problems with the same prompt and tests, one reference per arm, so the
    supervised warm start learns both arms (about 50/50) and RL must pick the rewarded one."""
    rows = [
        {
            "id": f"bandit/train/{i}",
            "prompt": PROMPT,
            "entry_point": "pick",
            "tests": {"kind": "asserts", "asserts": ["assert pick() == 1"]},
            "reference": ref,
            "split": "train",
        }
        for i, ref in enumerate((GOOD, BAD))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def arm_probability(trainer: Trainer, completion: str) -> float:
    """P(completion + eos | prompt) under the policy at the sampling temperature."""
    policy = trainer.policy
    tok = policy.tokenizer
    _, prompt_ids = collect.prompt_ids(trainer, trainer.problems[0])
    answer = [*tok(completion, add_special_tokens=False).input_ids, tok.eos_token_id]
    ids = torch.tensor([[*prompt_ids, *answer]], device=policy.device)
    with torch.no_grad():
        logits = policy.model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
    logp = torch.log_softmax(logits / trainer.temperature, dim=-1)
    picked = logp.gather(-1, torch.tensor(answer, device=policy.device)[:, None])
    return float(picked.sum().exp())


def bandit_config(tmp_path: Path, algorithm: str, kl_coef: float) -> object:
    return tiny_config(
        algorithm=algorithm,
        run={"steps": STEPS, "seed": 0},
        model={
            "source": "tiny",
            "name": "bandit-tiny",
            "device": "cpu",
            "torch_threads": 1,
            "tiny": {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 32},
            "warm_start": {"steps": 100, "batch_size": 8, "lr": 1e-2},
        },
        data={"problems": str(bandit_problems(tmp_path / "bandit.jsonl")), "limit": None},
        rollout={"prompts_per_step": 2, "group_size": 8, "max_new_tokens": 4, "stop": []},
        kl={"coef": kl_coef},
        optim={"lr": 1e-3, "schedule": "constant"},
        reward={"weights": {"execution": 1.0}, "execution": {"workers": 2}},
    )


@pytest.mark.parametrize("kl_coef", [0.0, 0.1], ids=["no-kl", "kl"])
@pytest.mark.parametrize("algorithm", ["grpo", "rloo", "ppo"])
def test_rl_moves_probability_onto_the_rewarded_arm(
    tmp_path: Path, algorithm: str, kl_coef: float
) -> None:
    cfg = bandit_config(tmp_path, algorithm, kl_coef)
    trainer = Trainer.from_config(cfg, tmp_path / "run")  # type: ignore[arg-type]
    try:
        good = [arm_probability(trainer, GOOD)]
        bad0 = arm_probability(trainer, BAD)
        # The warm start leaves both arms likely, so groups disagree and the test is a bandit.
        assert 0.15 < good[0] < 0.85, (good[0], bad0)
        assert good[0] + bad0 > 0.8, (good[0], bad0)
        rewards = []
        for _ in range(STEPS):
            result = trainer.step()
            rewards.append(result.metrics["reward/mean"])
            good.append(arm_probability(trainer, GOOD))
    finally:
        trainer.close()
    trace = " ".join(f"{p:.3f}" for p in good)
    # Criterion (measured: GRPO without KL climbs 0.50 -> 0.89 in 23 steps, every step up):
    # P(good) ends at least 0.3 above where it started, no step loses more than 0.01 of it, and
    # at most one step in eight loses anything at all.
    assert good[-1] > good[0] + 0.3, f"{algorithm} kl={kl_coef}: P(good) {trace}"
    drops = [b - a for a, b in itertools.pairwise(good) if b < a]
    assert all(d > -0.01 for d in drops), f"{algorithm} kl={kl_coef}: P(good) {trace}"
    assert len(drops) <= STEPS // 8, f"{algorithm} kl={kl_coef}: P(good) {trace}"
    assert sum(rewards[STEPS // 2 :]) > sum(rewards[: STEPS // 2]), rewards
