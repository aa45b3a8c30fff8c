from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from rlaif_tui.api import Event, RatingIn, SettingsPatch


def test_score_rating_needs_sample_and_score() -> None:
    rating = RatingIn(id="r-000001", sample_id="s1", score=4)
    assert rating.kind == "score"
    with pytest.raises(ValidationError, match="needs both sample_id and score"):
        RatingIn(id="r-000002", sample_id="s1")
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        RatingIn(id="r-000003", sample_id="s1", score=6)


def test_preference_needs_two_different_samples() -> None:
    assert RatingIn(id="r-000004", chosen_id="a", rejected_id="b").kind == "preference"
    with pytest.raises(ValidationError, match="must be different"):
        RatingIn(id="r-000005", chosen_id="a", rejected_id="a")
    with pytest.raises(ValidationError, match="either sample_id and score"):
        RatingIn(id="r-000006", sample_id="a", score=3, chosen_id="a", rejected_id="b")


def test_rating_id_is_restricted_and_unknown_fields_rejected() -> None:
    with pytest.raises(ValidationError, match="id"):
        RatingIn(id="../../etc", sample_id="s", score=3)
    with pytest.raises(ValidationError, match="Extra inputs"):
        SettingsPatch.model_validate({"kl_coeff": 0.1})


def test_event_frames_are_versioned() -> None:
    frame = Event(id=3, type="metrics", data={"step": 1, "reward/mean": 0.5})
    assert frame.model_dump()["v"] == 1
    with pytest.raises(ValidationError):
        Event.model_validate({"id": 1, "type": "unknown", "data": {}})


def test_api_package_stays_light() -> None:
    code = (
        "import sys, rlaif_tui.api; "
        "heavy = {'torch', 'transformers', 'textual'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_rating_may_confirm_flags_as_reward_hacking() -> None:
    from pydantic import ValidationError

    from rlaif_tui.api.models import RatingIn

    r = RatingIn(id="r-000001", sample_id="s1", score=1, confirm_flags=["touches_frames"])
    assert r.confirm_flags == ["touches_frames"]
    assert RatingIn(id="r-000002", sample_id="s1", score=3).confirm_flags == []
    with pytest.raises(ValidationError, match="confirm_flags"):
        RatingIn(id="r-000003", sample_id="s1", score=1, confirm_flags=["Bad Flag!"])
