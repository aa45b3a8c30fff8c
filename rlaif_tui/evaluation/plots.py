"""Static PNG plots of a run (matplotlib, Agg backend: no display needed).

Each function writes one PNG and returns its path, or None when the run has nothing to plot
for it yet (the report says so instead of showing an empty chart).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from rlaif_tui.evaluation.run_data import PassWindows, SettingsChange

Series = dict[str, list[tuple[int, float]]]


def line_plot(
    metrics: Series,
    keys: list[str],
    title: str,
    out: Path,
    *,
    ylim: tuple[float, float] | None = None,
    marks: Sequence[SettingsChange] = (),
) -> Path | None:
    """One line per metric key present in `metrics` (steps on x), and a dotted vertical line
    labelled with what changed at each live settings change in `marks`."""
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
    _mark_changes(ax, marks)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _mark_changes(ax: Axes, marks: Sequence[SettingsChange]) -> None:
    """A change journalled at step s applies from step s + 1: the line sits between the two."""
    for number, change in enumerate(marks):
        x = change.step + 0.5
        ax.axvline(x, color="0.35", linestyle=":", linewidth=1.1, zorder=1)
        # labels alternate between the top and a bit lower, so close changes do not overprint
        y = 0.97 - 0.09 * (number % 3)
        ax.annotate(
            change.label,
            xy=(x, y),
            xycoords=("data", "axes fraction"),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=7,
            color="0.25",
            va="top",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
        )


def heat_map(windows: PassWindows | None, out: Path) -> Path | None:
    """Problems x step windows, colour = share of the window's samples of that problem that
    pass (grey: not sampled in that window); each row is labelled with its change."""
    if windows is None or not windows.problems:
        return None
    rate = np.array(
        [[np.nan if v is None else v for v in row] for row in windows.rate], dtype=float
    )  # (P, W)
    labels = [f"{p}  {c:+.2f}" for p, c in zip(windows.problems, windows.change, strict=True)]
    height = min(14.0, 1.8 + 0.22 * len(labels))
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
    starts = windows.starts
    ticks = np.linspace(0, len(starts) - 1, min(len(starts), 12)).astype(int)
    ax.set_xticks(ticks)
    ends = windows.ends
    names = [str(starts[t]) if starts[t] == ends[t] else f"{starts[t]}–{ends[t]}" for t in ticks]
    ax.set_xticklabels(names, fontsize=7)
    ax.set_xlabel("steps")
    width = max(e - s + 1 for s, e in zip(starts, ends, strict=True))
    per = "step" if width == 1 else f"window of ≤{width} steps"
    ax.set_title(
        f"the {len(labels)} problems whose pass rate changed most (first → last window)\n"
        f"pass rate over each {per}, all of its samples (grey: not sampled)",
        fontsize=9,
    )
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
