"""`rlaif data export-pairs RUN -o FILE`: TRL preference JSONL from a finished run's ratings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rlaif_tui.api.models import RatingIn
from rlaif_tui.daemon.store import RatingsStore

RLAIF = str(Path(sys.executable).parent / "rlaif")


def _sample(sid: str, completion: str) -> dict[str, str]:
    return {"id": sid, "group_id": "s1-g0", "prompt": "def f():\n", "completion": completion}


def test_pairs_are_exported_offline_in_trl_format(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    store = RatingsStore(run / "ratings.sqlite")
    a, b, c = (
        _sample("s1-g0-00", "  return 1"),
        _sample("s1-g0-01", "  return 2"),
        _sample("s1-g0-02", "  return [3]"),
    )
    store.add(RatingIn(id="score-0001", sample_id=a["id"], score=5), 1, {a["id"]: a})
    store.add(RatingIn(id="score-0002", sample_id=b["id"], score=1), 1, {b["id"]: b})
    store.add(
        RatingIn(id="pref-00001", chosen_id=c["id"], rejected_id=b["id"]),
        2,
        {b["id"]: b, c["id"]: c},
    )
    store.close()
    out = tmp_path / "pairs" / "trl.jsonl"
    proc = subprocess.run(
        [RLAIF, "data", "export-pairs", str(run), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"2 preference pairs written to {out}"
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {"prompt": "def f():\n", "chosen": "  return [3]", "rejected": "  return 2"} in rows
    assert {"prompt": "def f():\n", "chosen": "  return 1", "rejected": "  return 2"} in rows
    assert all(set(r) == {"prompt", "chosen", "rejected"} for r in rows)


def test_a_run_without_ratings_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    proc = subprocess.run(
        [RLAIF, "data", "export-pairs", str(tmp_path / "run"), "-o", str(tmp_path / "p.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'run' / 'ratings.sqlite'}: not found (the run has no ratings: "
        "was it served by a daemon?)"
    ]
    assert not (tmp_path / "p.jsonl").exists()
