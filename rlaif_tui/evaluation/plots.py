"""Static PNG plots of a run (matplotlib, Agg backend: no display needed).

Each function writes one PNG and returns its path, or None when the run has nothing to plot
for it yet (the report says so instead of showing an empty chart).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from rlaif_tui.evaluation.run_data import PassGrid

Series = dict[str, list[tuple[int, float]]]
MAX_HEAT_ROWS = 60
MAX_HEAT_COLS = 80


def line_plot(
    metrics: Series,
    keys: list[str],
    title: str,
    out: Path,
    *,
    ylim: tuple[float, float] | None = None,
) -> Path | None:
    """One line per metric key present in `metrics` (steps on x)."""
    present = [k for k in keys if metrics.get(k)]
    if not present:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    for key in present:
        steps, values = zip(*metrics[key], strict=True)
        marker = "o" if len(steps) < 30 else None
        ax.plot(steps, values, label=key, marker=marker, linewidth=1.4, markersize=3)
    if "reward/mean" in present and metrics.get("reward/std"):
        steps, mean = zip(*metrics["reward/mean"], strict=True)
        std = dict(metrics["reward/std"])
        s = np.array([std.get(x, 0.0) for x in steps])
        m = np.array(mean)
        ax.fill_between(steps, m - s, m + s, alpha=0.15, label="reward/std")
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def heat_map(grid: PassGrid | None, out: Path) -> Path | None:
    """Problems x steps, colour = share of that step's samples passing (grey: not sampled).

    Long runs are binned into at most MAX_HEAT_COLS step ranges; with more problems than
    MAX_HEAT_ROWS, the most often sampled ones are shown.
    """
    if grid is None:
        return None
    rate = np.array(
        [[np.nan if v is None else v for v in row] for row in grid.rate], dtype=float
    )  # (P, S)
    seen = (~np.isnan(rate)).sum(axis=1)
    order = np.argsort(-seen, kind="stable")[:MAX_HEAT_ROWS]
    order = np.sort(order)
    rate = rate[order]
    labels = [grid.problems[i] for i in order]
    steps = grid.steps
    if len(steps) > MAX_HEAT_COLS:
        edges = np.linspace(0, len(steps), MAX_HEAT_COLS + 1).astype(int)
        cols = []
        for a, b in itertools.pairwise(edges):
            block = rate[:, a:b]
            with np.errstate(all="ignore"):
                counts = (~np.isnan(block)).sum(axis=1)
                sums = np.nansum(block, axis=1)
            cols.append(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan))
        rate = np.stack(cols, axis=1)
        steps = [steps[a] for a in edges[:-1]]
    height = min(14.0, 1.5 + 0.22 * len(labels))
    fig, ax = plt.subplots(figsize=(8, height), dpi=100)
    cmap = ListedColormap(plt.get_cmap("RdYlGn")(np.linspace(0, 1, 256))).with_extremes(
        bad="#dddddd"
    )
    image = ax.imshow(
        np.ma.masked_invalid(rate),
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=6)
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 10)).astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(steps[t]) for t in ticks], fontsize=7)
    ax.set_xlabel("step")
    ax.set_title("pass rate per problem and step (samples.jsonl; grey: not sampled)")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
