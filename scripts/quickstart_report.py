"""Quickstart figures: GRPO vs a matched no-update control, and held-out pass@1 before/after.

    rlaif train --config configs/quickstart.yaml --run-dir runs/qs-grpo --control
    python scripts/quickstart_report.py runs/qs-grpo runs/qs-grpo/control

The control samples with the same seeds and budget but never changes its weights (lr = 0), so
the difference in training-prompt pass rate is what the updates bought. Intervals are 95%
(normal approximation over steps for training prompts, over problems for held-out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def pass_rates(run: Path) -> list[float]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [float(r["pass/rate"]) for r in sorted(rows, key=lambda r: r["step"])]


def mean_ci(xs: list[float]) -> tuple[float, float]:
    from rlaif_tui.evaluation.paired import mean_ci as paired_mean_ci

    ci = paired_mean_ci(xs)
    return ci.mean, ci.half_width


def report(
    grpo: Path,
    control: Path,
    executor: Any = None,
    samples: int = 4,
    limit: int | None = None,
) -> None:
    from rlaif_tui.config import load_config
    from rlaif_tui.config.train import TrainConfig
    from rlaif_tui.models.checkpoint import latest_checkpoint
    from rlaif_tui.train.evaluate import heldout_pass_at_1

    g, c = pass_rates(grpo), pass_rates(control)
    n = min(len(g), len(c))
    half = n // 2
    for label, a, b in (("all steps", g[:n], c[:n]), ("second half", g[half:n], c[half:n])):
        (ma, ea), (mb, eb) = mean_ci(a), mean_ci(b)
        diffs = [x - y for x, y in zip(a, b, strict=True)]
        md, ed = mean_ci(diffs)
        print(
            f"training-prompt pass rate, {label}: GRPO {ma:.3f} +- {ea:.3f}, "
            f"control {mb:.3f} +- {eb:.3f}, paired difference {md:+.3f} +- {ed:.3f}"
        )
    cfg = load_config(grpo / "config.yaml", TrainConfig)
    before = heldout_pass_at_1(cfg, None, samples=samples, limit=limit, executor=executor)
    after = heldout_pass_at_1(
        cfg,
        latest_checkpoint(grpo / "checkpoints"),
        samples=samples,
        limit=limit,
        executor=executor,
    )
    print(f"held-out pass@1 before (warm start): {before}")
    print(f"held-out pass@1 after GRPO:          {after}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("grpo", type=Path)
    parser.add_argument("control", type=Path)
    parser.add_argument("--samples", type=int, default=4, help="samples per held-out problem")
    parser.add_argument(
        "--limit", type=int, default=None, help="only the first N held-out problems (faster)"
    )
    args = parser.parse_args()
    report(args.grpo, args.control, samples=args.samples, limit=args.limit)


if __name__ == "__main__":
    main()
