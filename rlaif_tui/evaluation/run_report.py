"""`rlaif report RUN`: PNG plots of a run plus one self-contained HTML page.

The page inlines every image as base64 and has no script or external link, so it can be mailed
or attached as one file. Plots: reward, pass rate (training samples and held-out eval), KL,
held-out pass@k over steps, and a per-problem pass-rate heat map from samples.jsonl. The step
charts mark every live settings change (settings.jsonl) with a labelled vertical line.
"""

from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rlaif_tui.evaluation.paired import pair
from rlaif_tui.evaluation.run_data import (
    RunDataError,
    pass_windows,
    read_metrics,
    read_pass_grid,
    read_settings_changes,
)

INSTALL_HINT = "pip install 'rlaif-tui[report]'"
PLOTS = ("reward", "pass rate", "KL", "held-out pass@k", "per-problem heat map")


@dataclass
class RunReport:
    html: Path
    images: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    """Plots with nothing to show yet (e.g. no eval/pass@k when eval.every is 0)."""


def add_control(run: Path, out: Path, images: dict[str, Path]) -> list[tuple[str, str]]:
    """With RUN/control (`run.control`): the overlay plot and the paired summary rows."""
    paired = pair(run)
    if paired is None:
        return []
    from rlaif_tui.evaluation.paired_plots import paired_plot

    images["run vs control"] = paired_plot(paired, "pass/rate", out / "control.png")
    return [
        ("control", str(run / "control")),
        ("pass/rate - control, all steps", str(paired.window())),
        ("pass/rate - control, second half", str(paired.second_half())),
    ]


def _eval_keys(metrics: dict[str, list[tuple[int, float]]]) -> list[str]:
    keys = [k for k in metrics if k.startswith("eval/pass@")]
    return sorted(keys, key=lambda k: int(k.rsplit("@", 1)[1]))


def _summary_rows(run: Path, metrics: dict[str, list[tuple[int, float]]]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("run", str(run))]
    config = run / "config.yaml"
    if config.exists():
        cfg = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        rows.append(("algorithm", str(cfg.get("algorithm", "?"))))
        rows.append(("model", str((cfg.get("model") or {}).get("name", "?"))))
    steps = max((s for series in metrics.values() for s, _ in series), default=0)
    rows.append(("steps logged", str(steps)))
    for key in ("reward/mean", "pass/rate", "kl/mean", *_eval_keys(metrics)):
        if metrics.get(key):
            step, value = metrics[key][-1]
            rows.append((f"last {key}", f"{value:.4f} (step {step})"))
    return rows


def _page(
    title: str, rows: list[tuple[str, str]], images: dict[str, Path], notes: list[str]
) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;"
        "color:#222}table{border-collapse:collapse}td{padding:2px 12px 2px 0}"
        "img{max-width:100%;border:1px solid #ddd;margin:8px 0}h2{margin-top:1.6em}"
        ".note{color:#777}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<table>",
        *(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]
    for name, path in images.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in notes]
    parts.append(
        f'<p class="note">generated {time.strftime("%Y-%m-%d %H:%M:%S")} by rlaif report</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build_report(run: Path, out: Path | None = None) -> RunReport:
    """Write the PNGs and `report.html` into `out` (default RUN/report); raises RunDataError."""
    try:
        from rlaif_tui.evaluation import plots
    except ModuleNotFoundError as exc:
        raise RunDataError(f"rlaif report needs matplotlib: {INSTALL_HINT} ({exc})") from None
    metrics = read_metrics(run)
    out = out or run / "report"
    out.mkdir(parents=True, exist_ok=True)
    eval_keys = _eval_keys(metrics)
    grid = read_pass_grid(run)
    marks = read_settings_changes(run)

    def draw(name: str, path: Path) -> Path | None:
        if name == "reward":
            return plots.line_plot(metrics, ["reward/mean"], "reward", path, marks=marks)
        if name == "pass rate":
            keys = ["pass/rate", "pass/partial", "eval/pass@1"]
            return plots.line_plot(metrics, keys, "pass rate", path, ylim=(0, 1), marks=marks)
        if name == "KL":
            return plots.line_plot(metrics, ["kl/mean"], "KL to the reference", path, marks=marks)
        if name == "held-out pass@k":
            title = "held-out pass@k (eval.every)"
            return plots.line_plot(metrics, eval_keys, title, path, ylim=(0, 1), marks=marks)
        return plots.heat_map(pass_windows(grid) if grid is not None else None, path)

    report = RunReport(out / "report.html")
    for name in PLOTS:
        path = draw(name, out / (name.replace(" ", "_").replace("@", "at").lower() + ".png"))
        if path is None:
            report.missing.append(name)
        else:
            report.images[name] = path
    notes = [f"{name}: nothing logged yet" for name in report.missing]
    rows = _summary_rows(run, metrics)
    rows += [(f"settings changed after step {m.step}", m.label) for m in marks]
    rows += add_control(run, out, report.images)
    page = _page(f"rlaif run report: {run.name}", rows, report.images, notes)
    report.html.write_text(page, encoding="utf-8")
    return report
