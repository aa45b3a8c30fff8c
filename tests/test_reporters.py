"""The trackers fed beside metrics.jsonl (`logging.report_to`): TensorBoard read back with its
own EventAccumulator (no step twice after a resume, hparams, the samples table), MLflow into a
file store under tmp when it is installed, and the one-line install hint for a named tracker
that is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import LetterShare, tiny_config

from rlaif_tui.config.train import TrainConfig
from rlaif_tui.train.trainer import Trainer

REPO = Path(__file__).resolve().parent.parent
RLAIF = str(Path(sys.executable).parent / "rlaif")


def accumulator(tb: Path) -> object:
    """TensorBoard's own reader (the plugin-era EventAccumulator: scalars and text are both
    tensors, and a writer's `purge_step` drops the later steps of earlier files from each)."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def run_steps(cfg: TrainConfig, run: Path, steps: int, *, resume: bool = False) -> Trainer:
    trainer = Trainer.from_config(cfg, run, resume=resume, sources=[LetterShare()])
    for _ in range(steps):
        trainer.step()
    trainer.close()
    return trainer


def jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_tensorboard_after_resume_has_each_step_once_with_hparams_and_samples(
    tmp_path: Path,
) -> None:
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    cfg = tiny_config(run={"steps": 4, "checkpoint_every": 2, "tensorboard": True, "seed": 0})
    run = tmp_path / "run"
    # Steps 1-3, checkpoint at 2: step 3 is in TensorBoard but not in the checkpoint.
    first = run_steps(cfg, run, 3)
    assert first.step_count == 3
    resumed = run_steps(cfg, run, 2, resume=True)  # redoes step 3, then step 4
    assert resumed.step_count == 4
    assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 2

    acc = accumulator(run / "tb")
    metrics = {int(m["step"]): m for m in jsonl(run / "metrics.jsonl")}
    for key in ("reward/mean", "loss/total", "lr"):
        events = acc.Tensors(key)  # type: ignore[attr-defined]
        assert [e.step for e in events] == [1, 2, 3, 4], key
        for e in events:
            value = float(tensor_util.make_ndarray(e.tensor_proto))
            assert value == pytest.approx(metrics[e.step][key], rel=1e-6), (key, e.step)

    # hparams: written once (by the first writer), naming the run's config values
    content = acc.PluginTagToContent("hparams")  # type: ignore[attr-defined]
    assert "_hparams_/session_start_info" in content
    info = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    hp = {k: v.ListFields()[0][1] for k, v in info.hparams.items()}
    assert hp["algorithm"] == "grpo"
    assert hp["model/name"] == "test-tiny"
    assert hp["rollout/group_size"] == 4
    assert hp["optim/lr"] == pytest.approx(1e-2)
    assert hp["kl/coef"] == pytest.approx(0.04)
    assert hp["rollout/temperature"] == pytest.approx(1.0)
    assert hp["reward/weight/syntax"] == pytest.approx(1.0)

    # the samples table: a header and a few rows per step, the step's own samples
    samples = jsonl(run / "samples.jsonl")
    events = acc.Tensors("samples/text_summary")  # type: ignore[attr-defined]
    assert [e.step for e in events] == [1, 2, 3, 4]
    for e in events:
        table = tensor_util.make_ndarray(e.tensor_proto)
        assert table.shape == (5, 4)
        assert [c.decode() for c in table[0]] == ["problem", "reward", "status", "completion"]
        of_step = [s for s in samples if s["step"] == e.step]
        ids = {str(s["problem_id"]) for s in of_step}
        rows = [[c.decode() for c in row] for row in table[1:]]
        assert {r[0] for r in rows} <= ids
        assert len({r[0] for r in rows}) == cfg.rollout.prompts_per_step  # both groups shown
        for problem, reward, _status, completion in rows:
            match = [s for s in of_step if s["problem_id"] == problem]
            assert any(f"{float(s['reward']):.3f}" == reward for s in match)  # type: ignore[arg-type]
            body = completion.removeprefix("```\n").removesuffix("\n```")
            assert any(body == s["completion"] for s in match)


def test_tensorboard_off_writes_no_events(tmp_path: Path) -> None:
    cfg = tiny_config(run={"steps": 1, "tensorboard": True}, logging={"report_to": []})
    run_steps(cfg, tmp_path / "run", 1)
    assert (tmp_path / "run" / "metrics.jsonl").exists()
    assert not (tmp_path / "run" / "tb").exists()


def test_unknown_tracker_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"logging\.report_to\.0"):
        tiny_config(logging={"report_to": ["neptune"]})


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow extra missing")
def test_mlflow_logs_params_metrics_and_samples_to_a_local_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    cfg = tiny_config(run={"steps": 2}, logging={"report_to": ["mlflow"]})
    run = tmp_path / "run"
    run_steps(cfg, run, 2)
    run_id = json.loads((run / "reporters.json").read_text())["mlflow"]
    client = MlflowClient(tracking_uri=store.as_uri())
    data = client.get_run(run_id).data
    assert data.params["algorithm"] == "grpo"
    assert data.params["rollout/group_size"] == "4"
    history = client.get_metric_history(run_id, "reward/mean")
    metrics = jsonl(run / "metrics.jsonl")
    assert [(m.step, m.value) for m in history] == [
        (int(m["step"]), pytest.approx(m["reward/mean"])) for m in metrics
    ]
    got = client.download_artifacts(run_id, "samples/step-000002.jsonl", str(tmp_path))
    rows = [json.loads(line) for line in Path(got).read_text().splitlines()]
    assert rows
    assert set(rows[0]) == {"problem", "reward", "status", "completion"}


# What `pip install rlaif-tui[train]` has when a tracker's extra is not installed, whether or
# not this venv happens to have it: `None` in sys.modules makes `find_spec` answer None and an
# import raise ModuleNotFoundError naming the module.
BLOCK = "import sys\nsys.modules[{module!r}] = None\n"


@pytest.mark.parametrize("tracker", ["wandb", "trackio", "mlflow"])
def test_a_tracker_not_installed_is_one_line_naming_its_extra(tracker: str, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK.format(module=tracker))
    proc = subprocess.run(
        [
            RLAIF,
            "train",
            "--config",
            str(REPO / "configs" / "smoke.yaml"),
            "--steps",
            "1",
            "--set",
            f"logging.report_to=[tensorboard, {tracker}]",
            "--run-dir",
            str(tmp_path / "run"),
        ],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    # the CLI's "run directory: ..." line, then the one error line
    assert [line for line in lines if line.startswith("error:")] == lines[-1:]
    assert lines[-1] == f"error: rlaif train needs {tracker}: install 'rlaif-tui[{tracker}]'"
    assert not (tmp_path / "run" / "metrics.jsonl").exists()  # refused before any step
