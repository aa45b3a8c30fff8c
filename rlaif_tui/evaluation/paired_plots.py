"""The report's control plot: the run's pass rate over its control's (dimmed), and below it
the paired per-step difference with its cumulative mean and 95% interval."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from rlaif_tui.evaluation.paired import Paired, running_ci


def paired_plot(paired: Paired, key: str, out: Path) -> Path:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.2), dpi=100, sharex=True)
    steps = np.array(paired.steps)
    top.plot(steps, paired.control, color="0.6", linewidth=1.2, label=f"control (lr 0) {key}")
    top.plot(steps, paired.run, color="C0", linewidth=1.4, label=f"run {key}")
    top.set_title(f"{key}: run vs matched control")
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="best")
    diffs = np.array(paired.diffs)
    running = running_ci(paired.diffs)
    mean = np.array([r.mean for r in running])
    half = np.array([r.half_width for r in running])
    bottom.axhline(0.0, color="0.3", linewidth=0.8)
    bottom.scatter(steps, diffs, s=6, color="C0", alpha=0.4, label="per-step difference")
    bottom.plot(steps, mean, color="C3", linewidth=1.4, label="cumulative mean")
    bottom.fill_between(steps, mean - half, mean + half, color="C3", alpha=0.2, label="95% CI")
    second = paired.second_half()
    bottom.set_title(f"paired difference (second half: {second})")
    bottom.set_xlabel("step")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
