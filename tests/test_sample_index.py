"""One replace-by-id sample index for the daemon and the TUI (api.samples).

With `reward.human.hold_s > 0` the trainer publishes a batch's provisional records (advantage
0.0) before the update and the final ones after it under the same ids; both sides must end up
holding the final record.
"""

from __future__ import annotations

from typing import Any

from rlaif_tui.api import Event
from rlaif_tui.api.samples import SampleIndex
from rlaif_tui.tui.run_model import RunModel


def record(sid: str, advantage: float, reward: float = 0.5) -> dict[str, Any]:
    return {
        "id": sid,
        "step": 1,
        "group_id": sid.rsplit("-", 1)[0],
        "problem_id": "p1",
        "reward": reward,
        "advantage": advantage,
        "flags": [],
    }


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
