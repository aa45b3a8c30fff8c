"""Dashboard: live charts of the run's metrics, titled with their metric keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static

from rlaif_tui.tui.screens.base import RunScreen
from rlaif_tui.tui.widgets.chart import Chart

# (keys plotted, band) — keys[0] is the chart's title; the band shades mean ± std.
CHARTS: list[tuple[list[str], tuple[str, str] | None]] = [
    (["reward/mean"], ("reward/mean", "reward/std")),
    (["pass/rate", "eval/pass@1"], None),  # held-out pass@1 when the run evaluates
    (["kl/mean"], None),
    (["loss/policy", "loss/total"], None),
    (["entropy/mean"], None),
    (["lr"], None),
    (["throughput/completions_per_s"], None),
    (["time/reward_wait_share"], None),
    (["groups/zero_variance"], None),
]


class DashboardScreen(RunScreen):
    def __init__(self) -> None:
        super().__init__()
        self._seen_metrics = -1
        self._seen_status = -1

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Grid(id="charts"):
            for keys, band in CHARTS:
                yield Chart(keys, band=band, id=_chart_id(keys[0]))
        yield Static(id="settings-strip")
        yield from self.compose_footer()

    def sync(self, force: bool) -> None:
        model = self.rlaif.model
        if force or model.versions.metrics != self._seen_metrics:
            self._seen_metrics = model.versions.metrics
            for chart in self.query(Chart):
                chart.set_data(model.metrics)
        if force or model.versions.status != self._seen_status:
            self._seen_status = model.versions.status
            self.query_one("#settings-strip", Static).update(self._settings_line())

    def _settings_line(self) -> str:
        status = self.rlaif.model.status
        if status is None:
            return "settings: –"
        s = status.settings
        weights = " ".join(f"{k} {v:g}" for k, v in sorted(s.reward_weights.items()))
        target = f" (target {s.kl_target:g})" if s.kl_target is not None else ""
        return f"β {s.kl_coef:g}{target} · temperature {s.temperature:g} · weights {weights}"


def _chart_id(key: str) -> str:
    return "chart-" + key.replace("/", "-").replace("@", "at").replace(".", "_")
