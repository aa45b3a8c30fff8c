"""A few steps of the smoke config with execution + judge + human rewards, against a real judge
server on 127.0.0.1 and the real sandbox; the judge misbehaves on one step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from feedback_helpers import needs_sandbox
from judge_server import JudgeServer

from rlaif_tui.api.models import RatingIn, SettingsPatch
from rlaif_tui.config import load_config
from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.data import load_problems
from rlaif_tui.train.trainer import Hooks, Trainer

REPO = Path(__file__).resolve().parent.parent


def smoke(server: JudgeServer, **extra: Any) -> TrainConfig:
    overrides = {
        "run.steps": 3,
        "run.checkpoint_every": 0,
        "reward.weights": {"execution": 1.0, "judge": 0.5, "human": 0.5},
        "reward.judge": {
            "provider": "openai",
            "model": "judge-test",
            "base_url": server.openai_url,
            "api_key_env": "",
            "limits": {"backoff_s": 0.01, "max_retries": 1, "timeout_s": 5.0},
        },
        "reward.human": {"hold_s": 0.01},
        **extra,
    }
    return load_config(REPO / "configs" / "smoke.yaml", TrainConfig, overrides)


@pytest.mark.slow
@needs_sandbox
def test_execution_judge_and_human_end_to_end(tmp_path: Path) -> None:
    published: list[list[dict[str, Any]]] = []
    logs: list[tuple[str, str]] = []
    trainer: Trainer | None = None

    def on_samples(records: list[dict[str, Any]]) -> None:
        published.append(records)
        # While the step holds for ratings, a person rates the first sample of the batch.
        if trainer is not None and len(published) == 1:
            trainer.add_ratings([RatingIn(id="early-01", sample_id=records[0]["id"], score=5)])

    with JudgeServer() as server:
        cfg = smoke(server)
        hooks = Hooks(on_samples=on_samples, on_log=lambda lv, m: logs.append((lv, m)))
        trainer = Trainer.from_config(cfg, tmp_path / "run", hooks=hooks)
        try:
            first = trainer.step()
            # the early rating counted: human reward 1.0 on that sample, None on the rest
            rated = first.samples[0]
            assert rated["rewards"]["human"] == 1.0
            assert all(s["rewards"]["human"] is None for s in first.samples[1:])
            assert all(s["rewards"]["judge"] is not None for s in first.samples)
            exe, judge = rated["rewards"]["execution"], rated["rewards"]["judge"]
            assert rated["reward"] == pytest.approx((exe + 0.5 * judge + 0.5) / 2.0)
            m = first.metrics
            for key in (
                "reward/execution",
                "reward/judge",
                "reward/human",
                "judge/tokens",
                "judge/cost_usd",
                "pass/rate",
                "tripwires/flagged",
            ):
                assert key in m, key
            assert m["judge/requests"] == len(first.samples)
            assert m["human/early"] == 1

            # late ratings of step-1 samples become a preference pair
            trainer.add_ratings(
                [
                    RatingIn(id="late-001", sample_id=first.samples[1]["id"], score=5),
                    RatingIn(id="late-002", sample_id=first.samples[2]["id"], score=1),
                ]
            )
            assert len(trainer.scoring.pairs) >= 1

            # the judge fails every request of step 2: the step goes on without the judge term
            server.script.extend(["500"] * (2 * len(first.samples)))
            second = trainer.step()
            assert all(s["rewards"]["judge"] is None for s in second.samples)
            for s in second.samples:
                assert s["reward"] == pytest.approx(s["rewards"]["execution"])
            assert second.metrics["judge/failures"] == len(second.samples)
            assert any("judge: HTTP 500" in msg for _, msg in logs)

            # live weights: judge off for step 3 (no judge requests at all)
            sent = len(server.requests)
            trainer.apply_settings(SettingsPatch(reward_weights={"judge": 0.0}))
            third = trainer.step()
            assert len(server.requests) == sent
            assert "judge" not in third.samples[0]["rewards"]
        finally:
            trainer.close()
    lines = (tmp_path / "run" / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["rewards"]["human"] == 1.0
    metrics = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3]


@pytest.mark.slow
@needs_sandbox
def test_self_repair_replaces_failed_groups(tmp_path: Path) -> None:
    with JudgeServer() as server:
        cfg = smoke(
            server,
            **{
                "run.steps": 1,
                "reward.weights": {"execution": 1.0},
                "repair": {"enabled": True, "max_groups": 1},
                "model.tiny.n_positions": 512,  # room for the failed attempt in the prompt
            },
        )
        trainer = Trainer.from_config(cfg, tmp_path / "run")
        try:
            result = trainer.step()
        finally:
            trainer.close()
    # a random tiny model fails everything: one group became a repair group
    assert result.metrics["repair/groups"] == 1
    repaired = [s for s in result.samples if s["prompt"].startswith("# A previous attempt")]
    assert len(repaired) == cfg.rollout.group_size
    assert all(s["outcome"] is not None for s in repaired)  # rewarded like any sample


@pytest.mark.slow
@needs_sandbox
def test_teacher_in_a_run_writes_solutions_and_pairs(tmp_path: Path) -> None:
    first = load_problems(REPO / "data" / "quickstart" / "problems.jsonl")[0]
    with JudgeServer() as server:
        server.solve = lambda _user: first.prompt + (first.reference or "")
        judge = JudgeConfig(base_url=server.openai_url, model="teacher", api_key_env="")
        overrides = {
            "run.steps": 2,
            "run.checkpoint_every": 0,
            "data.limit": 1,
            "rollout.prompts_per_step": 1,
            "reward.weights": {"execution": 1.0, "judge": 0.0},
            "reward.judge": judge.model_dump(mode="json"),
            "teacher": {"enabled": True, "when": ["all_fail"], "solutions_per_problem": 1},
        }
        cfg = load_config(REPO / "configs" / "smoke.yaml", TrainConfig, overrides)
        trainer = Trainer.from_config(cfg, tmp_path / "run")
        try:
            trainer.step()  # a random tiny model fails the whole group: the teacher is asked
            link = trainer.scoring.teacher
            assert link is not None
            link.wait(timeout=30)
            second = trainer.step()
        finally:
            trainer.close()
    assert second.metrics["teacher/passed"] == 1
    lines = (tmp_path / "run" / "teacher_solutions.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["completion"] == first.reference
    assert second.metrics["pairs/pool"] >= 1
