"""Dashboard: live charts of the run's metrics, titled with their metric keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static

from rlaif_tui.tui.screens.base import RunScreen
from rlaif_tui.tui.widgets.chart import Chart, ChartSpec, Line

UNIT = (0.0, 1.0)
POSITIVE = (0.0, None)

CHARTS: list[ChartSpec] = [
    ChartSpec((Line("reward/mean"),), band=("reward/mean", "reward/std"), baseline=True),
    # held-out pass@1 when the run evaluates (a few points: drawn as they are), and the
    # matched lr-0 control's pass rate when the run has one (`run.control`), dimmed
    ChartSpec(
        (
            Line("pass/rate"),
            Line("eval/pass@1", "second", smooth=False),
            Line("control/pass/rate", "control", label="control (lr 0)"),
        ),
        domain=UNIT,
        baseline=True,
    ),
    ChartSpec((Line("kl/mean"),), domain=POSITIVE),
    ChartSpec((Line("loss/policy"), Line("loss/total", "second"))),
    ChartSpec((Line("entropy/mean"),), domain=POSITIVE),
    ChartSpec((Line("lr", smooth=False),), domain=POSITIVE),
    ChartSpec((Line("throughput/completions_per_s"),), domain=POSITIVE),
    ChartSpec((Line("time/reward_wait_share"),), domain=UNIT),
    ChartSpec((Line("groups/zero_variance"),), domain=UNIT),
]
"""The dashboard's charts; a comparison series (e.g. a matched control run) is one more
`Line(key, "control")` in a spec."""


class DashboardScreen(RunScreen):
    def __init__(self) -> None:
        super().__init__()
        self._seen_metrics = (-1, -1)
        self._seen_status = -1

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Grid(id="charts"):
            for spec in CHARTS:
                yield Chart(spec, id=_chart_id(spec.key))
        yield Static(id="settings-strip")
        yield from self.compose_footer()

    def sync(self, force: bool) -> None:
        model = self.rlaif.model
        seen = (model.versions.metrics, len(model.settings_marks))
        if force or seen != self._seen_metrics:
            self._seen_metrics = seen
            marks = [step for step, _ in model.settings_marks]
            for chart in self.query(Chart):
                chart.set_data(model.metrics, marks)
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
        line = f"β {s.kl_coef:g}{target} · temperature {s.temperature:g} · weights {weights}"
        marks = self.rlaif.model.settings_marks
        if marks:
            step, what = marks[-1]
            line += f" · ┊ changed at step {step}: {what}"
        return line


def _chart_id(key: str) -> str:
    return "chart-" + key.replace("/", "-").replace("@", "at").replace(".", "_")
