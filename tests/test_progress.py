"""The one progress display: plain lines off a terminal (count, rate, time left, note)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rlaif_tui.progress import format_duration, progress

REPO = Path(__file__).resolve().parent.parent


def test_plain_lines_carry_count_rate_eta_and_note() -> None:
    out = io.StringIO()
    with progress("warm start", 4, unit="step", stream=out, every_s=0) as bar:
        for i in range(4):
            bar.advance(note=f"loss {1.0 / (i + 1):.3f}")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "warm start: 0/4 (0%)"
    assert lines[1].startswith("warm start: 1/4 (25%) ")
    assert " step/s, " in lines[1]
    assert lines[1].endswith(" left · loss 1.000")
    assert lines[-1].startswith("warm start: 4/4 (100%) ")
    assert ", done in " in lines[-1]
    assert lines[-1].endswith("· loss 0.250")


def test_plain_lines_are_throttled_but_the_last_count_is_always_printed() -> None:
    out = io.StringIO()
    with progress("scoring", None, unit="program", stream=out, every_s=3600) as bar:
        for done in range(1, 101):
            bar.update(done, 100)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0] == "scoring: 0"
    assert lines[1].startswith("scoring: 100/100 (100%)")


def test_durations() -> None:
    assert [format_duration(s) for s in (4.4, 187, 3900)] == ["4s", "3m07s", "1h05m"]


def test_data_check_reports_progress_lines_on_stderr(tmp_path: Path) -> None:
    src = REPO / "data" / "quickstart" / "problems.jsonl"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "rlaif"), "data", "check", str(src), "--sample", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "\r" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("data check: sandbox runs:")]
    assert lines[0] == "data check: sandbox runs: 0"
    assert "(100%)" in lines[-1]
    assert "checked 3 problems" in proc.stdout
