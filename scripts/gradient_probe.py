"""How much can one policy-gradient step buy? A probe of the pass-rate landscape at a checkpoint.

    python scripts/gradient_probe.py --config configs/quickstart.yaml --batches 32 --problems 256

At fixed weights theta, the GRPO gradient g is averaged over `--batches` rollout batches of the
config (8 prompts x 8 samples each by default: 32 batches = 2,048 completions, far less noisy
than one training step's 64). The pass rate on the first `--problems` training problems x
group_size samples is then measured at theta + alpha * d for unit directions d built from g:
`grad` (g itself), `sign` (Adam's first step: sign(g)) and `-sign`, `sign-body` (without the
token and position embeddings), `sign-1+` (blocks 1.. and the final norm), `sign-top` (the upper
half of the blocks and the final norm) and `grad-last` (g in the last block and final norm).
Every evaluation samples with the same seeds (common random
numbers), so the differences to alpha = 0 are paired per completion (95% CI, normal
approximation). A step along d that raises the pass rate only for small alpha says the update
is right but the landscape is curved: one step can buy at most that much.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

import numpy as np
import torch

from rlaif_tui.train.trainer import Trainer

Direction = list[torch.Tensor]


def average_gradient(t: Trainer, batches: int) -> tuple[Direction, list[str], float]:
    """Ascent direction of the GRPO objective (no KL) averaged over `batches` rollouts."""
    from rlaif_tui.algos.grpo import grpo_loss
    from rlaif_tui.train.collect import collect
    from rlaif_tui.train.logprobs import policy_forward
    from rlaif_tui.train.update import sequence_advantages

    named = [(n, p) for n, p in t.policy.model.named_parameters() if p.requires_grad]
    for _, p in named:
        p.grad = None
    rates = []
    for step in range(1, batches + 1):
        batch = collect(t, step)
        rewards = np.asarray(batch.scored.rewards, dtype=np.float64)
        rates.append(float(rewards.mean()))
        adv = torch.as_tensor(sequence_advantages(t.cfg, rewards), dtype=torch.float32)
        t.policy.model.train()
        fwd = policy_forward(t.policy, batch.rollout, t.temperature)
        # old_logp = logp.detach(): the ratio is exactly 1, so the clip range does not matter
        loss, _ = grpo_loss(
            fwd.logp,
            fwd.logp.detach(),
            adv,
            batch.rollout.mask,
            kl=None,
            beta=0.0,
            eps_low=0.2,
            eps_high=0.2,
            loss_type="dapo",
            max_tokens=batch.rollout.completion_ids.shape[1],
        )
        (loss / batches).backward()  # type: ignore[no-untyped-call]
    # a parameter the loss does not reach keeps a zero: one entry per trainable parameter
    grad = [torch.zeros_like(p) if p.grad is None else -p.grad.detach().clone() for _, p in named]
    return grad, [n for n, _ in named], float(np.mean(rates))


def unit(d: Direction) -> Direction:
    norm = torch.stack([(x**2).sum() for x in d]).sum().sqrt()
    return [x / norm for x in d]


def layer_of(name: str) -> int | None:
    """Transformer block index of a parameter name (`...h.3.` in GPT-2, `layers.3.` elsewhere)."""
    m = re.search(r"\.(?:h|layers)\.(\d+)\.", name)
    return int(m.group(1)) if m else None


def directions(grad: Direction, names: list[str]) -> dict[str, Direction]:
    """Unit directions from the averaged gradient, whole or restricted to some blocks."""
    layers = [layer_of(n) for n in names]
    depth = 1 + max((i for i in layers if i is not None), default=0)

    def only(keep: Callable[[str, int | None], bool], sign: bool) -> Direction:
        return unit(
            [
                (x.sign() if sign else x) if keep(n, i) else torch.zeros_like(x)
                for x, n, i in zip(grad, names, layers, strict=True)
            ]
        )

    def embedding(n: str) -> bool:
        return any(k in n for k in ("wte", "wpe", "embed_tokens", "embed_positions"))

    def final_norm(n: str) -> bool:  # outside every block and not an embedding: ln_f
        return layer_of(n) is None and not embedding(n)

    return {
        "grad": unit(grad),
        "sign": only(lambda n, i: True, True),
        "-sign": [-x for x in only(lambda n, i: True, True)],
        "sign-body": only(lambda n, i: not embedding(n), True),
        "sign-1+": only(lambda n, i: (i is not None and i >= 1) or final_norm(n), True),
        "sign-top": only(lambda n, i: (i is not None and i >= depth // 2) or final_norm(n), True),
        "grad-last": only(lambda n, i: i == depth - 1 or final_norm(n), False),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", default="configs/quickstart.yaml")
    ap.add_argument("--set", action="append", default=[], help="config override k=v")
    ap.add_argument("--batches", type=int, default=32)
    ap.add_argument("--problems", type=int, default=256)
    ap.add_argument("--alphas", default="0.03,0.1,0.3", help="step lengths (weight-space norm)")
    ap.add_argument("--run-dir", default="runs/gradient-probe")
    args = ap.parse_args()

    from rlaif_tui.config.loader import load_config, parse_overrides
    from rlaif_tui.config.train import TrainConfig
    from rlaif_tui.train.collect import sample_groups

    overrides = parse_overrides(["eval.every=0", "kl.coef=0", *args.set])
    cfg = load_config(args.config, TrainConfig, overrides)
    t = Trainer.from_config(cfg, args.run_dir)
    problems = t.problems[: args.problems]
    chunk = cfg.rollout.prompts_per_step

    def pass_per_sample() -> np.ndarray:
        t.policy.model.eval()
        out: list[float] = []
        for j in range(0, len(problems), chunk):  # seeds fixed per chunk: common random numbers
            *_, pending = sample_groups(t, 50_000 + j, 0, problems[j : j + chunk])
            out += list(pending.wait().rewards)
        return np.array(out)

    t0 = time.perf_counter()
    grad, names, rate = average_gradient(t, args.batches)
    params = [p for p in t.policy.model.parameters() if p.requires_grad]
    theta = [p.detach().clone() for p in params]
    took = time.perf_counter() - t0
    print(f"gradient of {args.batches} batches ({rate:.3f} passed) in {took:.0f} s")
    base = pass_per_sample()
    print(f"alpha 0: pass {base.mean():.4f} ({len(base)} completions)")
    for name, d in directions(grad, names).items():
        for alpha in (float(a) for a in args.alphas.split(",")):
            with torch.no_grad():
                for p, th, x in zip(params, theta, d, strict=True):
                    p.copy_(th + alpha * x)
            diff = pass_per_sample() - base
            half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))
            print(
                f"{name:9s} alpha {alpha:5.2f}: paired difference {diff.mean():+.4f} +- {half:.4f}"
            )
    t.close()


if __name__ == "__main__":
    main()
