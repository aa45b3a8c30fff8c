"""The local judge reads the probability of its verdict token from a tiny model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from feedback_helpers import one_thread, save_tiny_lm
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge.local import LocalJudge, verdict_ids

__all__ = ["one_thread"]


@pytest.fixture
def judge(tmp_path: Path) -> LocalJudge:
    path = save_tiny_lm(tmp_path / "judge")
    return LocalJudge.from_config(JudgeConfig(provider="local", model=str(path), device="cpu"))


def test_verdicts_split_after_their_common_prefix(judge: LocalJudge) -> None:
    prefix, good, bad = verdict_ids(judge.tokenizer, " Yes", " No")
    assert prefix == [ord(" ") + 3]  # byte-level ids are byte + 3
    assert (good, bad) == (ord("Y") + 3, ord("N") + 3)
    with pytest.raises(ValueError, match="do not differ"):
        verdict_ids(judge.tokenizer, " Yes", " Yes")


@pytest.mark.usefixtures("one_thread")
def test_score_is_the_renormalised_verdict_probability(judge: LocalJudge) -> None:
    prompts = ["def f(x):\n", "def g(a, b):\n"]
    completions = ["    return x\n", "    return a + b  # a much longer answer than the first\n"]
    got = judge.score(prompts, completions)
    ids = torch.tensor([judge._ids(prompts[0], completions[0])])
    with torch.no_grad():
        logits = judge.model(input_ids=ids).logits[0, -1]
    want = 1 / (1 + math.exp(float(logits[judge.bad_id] - logits[judge.good_id])))
    assert got[0] == pytest.approx(want, abs=1e-5)
    singles = [judge.score([p], [c])[0] for p, c in zip(prompts, completions, strict=True)]
    assert got == pytest.approx(singles, abs=1e-5)  # padding in a batch changes nothing
    assert all(0.0 < s < 1.0 for s in got)


@pytest.mark.usefixtures("one_thread")
def test_a_model_that_favours_yes_scores_high(judge: LocalJudge) -> None:
    def push(token: int) -> Any:
        def hook(_m: Any, _i: Any, out: torch.Tensor) -> torch.Tensor:
            out = out.clone()
            out[..., token] += 20.0
            return out

        return judge.model.lm_head.register_forward_hook(hook)

    handle = push(judge.good_id)
    assert judge.score(["p"], ["c"])[0] > 0.99
    handle.remove()
    handle = push(judge.bad_id)
    assert judge.score(["p"], ["c"])[0] < 0.01
    handle.remove()


def test_local_judge_meters_tokens(tmp_path: Path) -> None:
    path = save_tiny_lm(tmp_path / "j")
    j = LocalJudge(
        AutoModelForCausalLM.from_pretrained(path),
        AutoTokenizer.from_pretrained(path),
        JudgeConfig(provider="local", model=str(path)),
    )
    j.score(["p"], ["c"])
    m = j.meter.drain()
    assert m["judge/scored"] == 1
    assert m["judge/input_tokens"] > 50
