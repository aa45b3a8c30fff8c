"""One replace-by-id sample index for the daemon and the TUI (api.samples).

With `reward.human.hold_s > 0` the trainer publishes a batch's provisional records (advantage
0.0) before the update and the final ones after it under the same ids; both sides must end up
holding the final record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from train_helpers import PROBLEMS

from rlaif_tui.api import Event
from rlaif_tui.api.samples import SampleIndex, SampleRecord
from rlaif_tui.daemon.samples import read_samples
from rlaif_tui.data import load_problems
from rlaif_tui.scoring.pending import Scored
from rlaif_tui.scoring.records import sample_records
from rlaif_tui.tui.run_model import RunModel

KEYS = {"id", "step", "group_id", "problem_id", "prompt", "completion", "program", "reward"}
KEYS |= {"rewards", "advantage", "outcome", "flags"}


def record(sid: str, advantage: float, reward: float = 0.5) -> dict[str, Any]:
    return SampleRecord(
        id=sid,
        step=1,
        group_id=sid.rsplit("-", 1)[0],
        problem_id="p1",
        prompt="def f():",
        completion="    return 1",
        program="def f():\n    return 1",
        reward=reward,
        rewards={"execution": reward, "judge": None},
        advantage=advantage,
        outcome={"status": "passed"},
        flags=[],
    ).wire()


def test_the_scoring_layer_builds_records_with_the_documented_keys() -> None:
    problem = load_problems(PROBLEMS)[0]
    scored = Scored(
        rewards=[1.0, 0.0],
        per_source={"execution": [1.0, 0.0], "judge": [None, 0.5]},
        outcomes=[{"status": "passed"}, None],
        flags=[["possible_reward_hack"], []],
        wait_s=0.0,
        metrics={},
    )
    built = sample_records(
        3, [problem], 2, ["p"], ["a", "b"], ["pa", "pb"], scored, [0.5, -0.5], ["stop", "length"]
    )
    wire = [r.wire() for r in built]
    assert [set(w) for w in wire] == [KEYS, KEYS]
    assert wire[1] == {
        "id": "s000003-g00-01",
        "step": 3,
        "group_id": "s000003-g00",
        "problem_id": problem.id,
        "prompt": "p",
        "completion": "b",
        "program": "pb",
        "reward": 0.0,
        "rewards": {"execution": 0.0, "judge": 0.5},
        "advantage": -0.5,
        "outcome": None,
        "flags": ["truncated"],
    }
    # What was built without validation is what validation accepts.
    assert [SampleRecord.model_validate(w).wire() for w in wire] == wire


def test_the_tui_refuses_a_frame_that_is_not_a_sample_record() -> None:
    broken = record("s000001-g00-00", 0.0)
    del broken["reward"]
    with pytest.raises(ValidationError, match="reward"):
        RunModel().apply(Event(id=1, type="sample", data=broken))


def test_the_daemon_reads_samples_jsonl_skipping_what_is_not_a_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "samples.jsonl"
    good = [record(f"s000001-g00-{i:02d}", 0.1 * i) for i in range(3)]
    lines = [json.dumps(good[0]), json.dumps({"id": "x"}), *map(json.dumps, good[1:])]
    path.write_text("\n".join(lines) + '\n{"id": "s0000', encoding="utf-8")  # torn last line
    with caplog.at_level(logging.WARNING):
        assert read_samples(path, keep=100) == good
    assert f"{path}:2: not a sample record" in caplog.text
    assert read_samples(path, keep=3) == good[1:]


def test_the_tui_keeps_the_final_record_after_a_rating_hold() -> None:
    model = RunModel()
    frames = [
        Event(id=1, type="sample", data=record("s000001-g00-00", 0.0)),
        Event(id=2, type="sample", data=record("s000001-g00-01", 0.0)),
        Event(id=3, type="sample", data=record("s000001-g00-00", 0.7, reward=0.9)),
        Event(id=4, type="sample", data=record("s000001-g00-01", -0.7, reward=0.1)),
    ]
    for frame in frames:
        model.apply(frame)
    assert model.samples["s000001-g00-00"]["advantage"] == 0.7
    assert model.samples["s000001-g00-01"]["reward"] == 0.1
    group = model.group_of(model.samples["s000001-g00-00"])
    assert [s["advantage"] for s in group] == [0.7, -0.7]  # replaced in place, not appended
    assert len(model.samples) == 2


def test_the_tui_replaces_a_provisional_record_from_the_snapshot() -> None:
    model = RunModel()
    model.apply(Event(id=1, type="snapshot", data={"samples": [record("s000001-g00-00", 0.0)]}))
    model.apply(Event(id=2, type="sample", data=record("s000001-g00-00", 0.4)))
    assert model.samples["s000001-g00-00"]["advantage"] == 0.4


def test_the_index_replaces_by_id_and_drops_the_oldest() -> None:
    index = SampleIndex(keep=3)
    index.add([record(f"s000001-g00-{i:02d}", 0.0) for i in range(3)])
    index.add([record("s000001-g00-00", 0.3)])  # the final record: newest now
    assert index["s000001-g00-00"]["advantage"] == 0.3
    index.add([record("s000002-g00-00", 0.0)])  # pushes out the oldest: -01
    assert "s000001-g00-01" not in index
    assert [s["id"] for s in index.recent(2)] == ["s000001-g00-00", "s000002-g00-00"]
    assert [s["id"] for s in index.group(index["s000001-g00-00"])] == [
        "s000001-g00-00",
        "s000001-g00-02",
    ]
