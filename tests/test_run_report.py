"""`rlaif report RUN` on a real tiny run: PNGs and one self-contained HTML page."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from eval_helpers import REPO
from typer.testing import CliRunner

from rlaif_tui.cli.main import app

PNG = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib", reason="rlaif report needs the eval extra (make install has it)")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("report") / "run"
    args = ["train", "--config", str(REPO / "configs" / "smoke.yaml"), "--steps", "2"]
    args += ["--run-dir", str(run), "--set", "eval.every=1", "--set", "eval.samples=2"]
    args += ["--set", "eval.limit=3", "--set", "eval.ks=[1,2]"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return run


def test_report_writes_every_plot_and_one_self_contained_page(run_dir: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    out = run_dir / "report"
    names = ["reward", "pass_rate", "kl", "held-out_passatk", "per-problem_heat_map"]
    for name in names:
        data = (out / f"{name}.png").read_bytes()
        assert data.startswith(PNG), name
        assert len(data) > 5_000, name  # a drawn chart, not an empty canvas
    page = (out / "report.html").read_text()
    inlined = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(inlined) == len(names)
    assert base64.b64decode(inlined[0]) == (out / "reward.png").read_bytes()
    assert "<script" not in page
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched from elsewhere
    assert "last eval/pass@2" in page
    assert "nothing logged yet" not in page


def test_report_of_a_running_run_skips_a_torn_last_line(run_dir: Path, tmp_path: Path) -> None:
    metrics = run_dir / "metrics.jsonl"
    original = metrics.read_text()
    try:
        metrics.write_text(original + '{"step": 3, "reward/me')  # the trainer is mid-write
        result = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "report.html").exists()
    finally:
        metrics.write_text(original)


def test_report_names_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'metrics.jsonl'}: no metrics yet" in result.output
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'metrics.jsonl'}:2: not JSON" in result.output
