"""`rlaif report RUN` on a real tiny run: PNGs and one self-contained HTML page."""

from __future__ import annotations

import base64
import json
import random
import re
from pathlib import Path

import pytest
from eval_helpers import REPO
from typer.testing import CliRunner

from rlaif_tui.cli.main import app
from rlaif_tui.evaluation.run_data import pass_windows, read_pass_grid

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


def test_a_live_settings_change_is_marked_and_labelled(run_dir: Path, tmp_path: Path) -> None:
    journal = run_dir / "settings.jsonl"
    assert not journal.exists()  # `rlaif train` alone changes nothing
    before = tmp_path / "before"
    assert CliRunner().invoke(app, ["report", str(run_dir), "--out", str(before)]).exit_code == 0
    # the line the daemon journals for PATCH /api/settings after step 1 (Trainer.apply_settings)
    rows = [
        {"step": 1, "time": 1.0, "settings": {"temperature": 0.7}},
        {"step": 1, "time": 2.0, "settings": {"reward_weights": {"execution": 1.0}}},  # no-op
    ]
    journal.write_text("".join(json.dumps(r) + "\n" for r in rows))
    try:
        after = tmp_path / "after"
        result = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(after)])
        assert result.exit_code == 0, result.output
        page = (after / "report.html").read_text()
        # the smoke config samples at temperature 1: the label says from what to what
        assert "settings changed after step 1</b></td><td>temperature 1→0.7" in page
        assert page.count("settings changed after") == 1  # a journalled no-op is no change
        for name in ("reward", "pass_rate", "kl", "held-out_passatk"):
            drawn, plain = (d / f"{name}.png" for d in (after, before))
            assert drawn.read_bytes() != plain.read_bytes(), f"{name}: no marker drawn"
        heat = "per-problem_heat_map.png"
        assert (after / heat).read_bytes() == (before / heat).read_bytes()
    finally:
        journal.unlink()


def test_a_broken_settings_journal_names_its_line(run_dir: Path, tmp_path: Path) -> None:
    journal = run_dir / "settings.jsonl"
    journal.write_text('{"step": 1, "time": 1.0, "settings": 3}\n{"step": 2}\n')
    try:
        result = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(tmp_path)])
        assert result.exit_code == 2
        assert f"{journal}:1: settings: expected an object" in result.output
    finally:
        journal.unlink()


def _samples(path: Path, rows: list[tuple[str, int, bool]]) -> None:
    lines = [
        json.dumps({"step": s, "problem_id": p, "outcome": {"passed": ok}}) for p, s, ok in rows
    ]
    path.write_text("\n".join(lines) + "\n")


def test_heat_map_windows_keep_the_problems_that_changed_most(tmp_path: Path) -> None:
    # 60 problems over 24 steps, each sampled every 3rd step (sparse per step, as in a real
    # run); problem i passes with probability rising or falling by an amount set by i
    rng = random.Random(0)
    rows = []
    for i in range(60):
        shift = (i - 30) / 30  # -1 .. +0.97
        for step in range(1 + i % 3, 25, 3):
            p_pass = min(1.0, max(0.0, 0.5 + shift * (step - 12.5) / 23))
            rows.append((f"p{i:02d}", step, rng.random() < p_pass))
    rows.append(("never-twice", 5, True))  # one window only: change 0
    _samples(tmp_path / "samples.jsonl", rows)
    grid = read_pass_grid(tmp_path)
    assert grid is not None
    windows = pass_windows(grid, windows=6, rows=40)
    assert windows.starts == [1, 5, 9, 13, 17, 21]
    assert windows.ends == [4, 8, 12, 16, 20, 24]
    assert len(windows.problems) == 40
    # every window has a rate (each problem is sampled in every window of 4 steps)
    assert all(v is not None for row in windows.rate for v in row)
    # the rate of a cell is over all of that problem's samples in the window
    counts = [ok for p, s, ok in rows if p == windows.problems[0] and 1 <= s <= 4]
    assert windows.rate[0][0] == sum(counts) / len(counts)
    # kept: the 40 largest |change|; shown: biggest gain first
    changes = {}
    for p in {r[0] for r in rows}:
        first = [ok for q, s, ok in rows if q == p and s <= 4]
        last = [ok for q, s, ok in rows if q == p and s >= 21]
        changes[p] = (sum(last) / len(last) - sum(first) / len(first)) if first and last else 0
    cutoff = sorted((abs(c) for c in changes.values()), reverse=True)[39]
    assert all(abs(changes[p]) >= cutoff for p in windows.problems)
    assert windows.change == sorted(windows.change, reverse=True)
    assert windows.change[0] > 0.5
    assert windows.change[-1] < -0.5
    assert "never-twice" not in windows.problems


def test_heat_map_of_a_short_run_has_one_step_windows(run_dir: Path) -> None:
    grid = read_pass_grid(run_dir)
    assert grid is not None
    windows = pass_windows(grid)
    assert windows.starts == windows.ends == grid.steps == [1, 2]
    assert 0 < len(windows.problems) <= 40
