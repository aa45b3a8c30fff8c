"""Where a run's metrics go besides `metrics.jsonl` (which stays the source of truth):
TensorBoard, Weights & Biases, trackio, MLflow (`logging.report_to`, TRL's `report_to`).

Each backend is one `Reporter` with the same four calls; `RunDir` holds the list and calls them,
so no call site knows which backends are on. The libraries are imported inside their reporter,
so only the ones a run names need to be installed (`rlaif-tui[wandb]`, ...); `check_installed`
fails before any work is done, with the `ModuleNotFoundError` the CLI turns into an install
hint. Nothing here picks a network mode: wandb reads `WANDB_MODE`, MLflow
`MLFLOW_TRACKING_URI` (default: `file:` `<run>/mlruns`), trackio stores locally.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

REPORTERS = ("tensorboard", "wandb", "trackio", "mlflow")
"""Names `logging.report_to` may list."""

MODULE_OF = {name: name for name in REPORTERS}
"""The module each reporter imports (all named like the reporter)."""

SAMPLES_PER_STEP = 4
"""Sample records per step shown in the samples table."""

COMPLETION_CHARS = 600
"""A completion longer than this is cut in the samples table (samples.jsonl has it whole)."""

HparamValue = str | int | float | bool


class Reporter(Protocol):
    def start(self, first_step: int, hparams: Mapping[str, HparamValue]) -> None:
        """Open the backend; `first_step` is the first step this process logs (after a
        resume, earlier logs of it and later steps are replaced)."""

    def scalars(self, step: int, metrics: Mapping[str, float]) -> None: ...

    def samples(self, step: int, rows: Sequence[Mapping[str, Any]]) -> None:
        """A few sample records of `step`: problem id, reward, status, completion."""

    def close(self) -> None: ...


def check_installed(names: Sequence[str]) -> None:
    """Raise `ModuleNotFoundError` (with `.name`) for the first named backend not installed."""
    for name in names:
        module = MODULE_OF[name]
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(
                f"logging.report_to names {name}, which is not installed", name=module
            )


def report_to(cfg: Any) -> list[str]:
    """The reporters a TrainConfig asks for: `logging.report_to`, less TensorBoard when the
    older switch `run.tensorboard` is off."""
    names = list(dict.fromkeys(cfg.logging.report_to))
    return [n for n in names if n != "tensorboard" or cfg.run.tensorboard]


def make_reporters(names: Sequence[str], run_path: Path, run_name: str) -> list[Reporter]:
    makers: dict[str, Callable[[Path, str], Reporter]] = {
        "tensorboard": TensorBoardReporter,
        "wandb": WandbReporter,
        "trackio": TrackioReporter,
        "mlflow": MlflowReporter,
    }
    return [makers[name](run_path, run_name) for name in dict.fromkeys(names)]


def hparams_of(cfg: BaseModel) -> dict[str, HparamValue]:
    """The run's config flattened to the values one compares runs by (TrainConfig; another
    config gives its top-level scalars)."""
    from rlaif_tui.config.train import TrainConfig

    if not isinstance(cfg, TrainConfig):
        dump = cfg.model_dump(mode="json")
        return {k: v for k, v in dump.items() if isinstance(v, str | int | float | bool)}
    out: dict[str, HparamValue] = {
        "algorithm": cfg.algorithm,
        "model/name": cfg.model.name,
        "model/source": cfg.model.source,
        "model/lora": cfg.model.lora.enabled,
        "optim/lr": cfg.optim.lr,
        "optim/schedule": cfg.optim.schedule,
        "rollout/group_size": cfg.rollout.group_size,
        "rollout/prompts_per_step": cfg.rollout.prompts_per_step,
        "rollout/temperature": cfg.rollout.temperature,
        "rollout/max_new_tokens": cfg.rollout.max_new_tokens,
        "kl/coef": cfg.kl.coef,
        "kl/estimator": cfg.kl.estimator,
        "kl/adaptive": cfg.kl.adaptive,
        "grpo/loss_type": cfg.grpo.loss_type,
        "run/steps": cfg.run.steps,
        "run/seed": cfg.run.seed,
    }
    for source, weight in sorted(cfg.reward.weights.items()):
        out[f"reward/weight/{source}"] = weight
    return out


def sample_rows(samples: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """`[problem id, reward, status, completion]` of a few records of one step: the first of
    each group first, so the table shows several problems."""
    firsts = {str(s.get("group_id", i)): i for i, s in reversed(list(enumerate(samples)))}
    order = sorted(firsts.values()) + [i for i in range(len(samples)) if i not in firsts.values()]
    rows = []
    for s in (samples[i] for i in order[:SAMPLES_PER_STEP]):
        outcome = s.get("outcome") or {}
        completion = str(s.get("completion", ""))
        if len(completion) > COMPLETION_CHARS:
            completion = completion[:COMPLETION_CHARS] + " …"
        reward = s.get("reward")
        rows.append(
            [
                str(s.get("problem_id", "")),
                "" if reward is None else f"{float(reward):.3f}",
                str(outcome.get("status", "")),
                completion,
            ]
        )
    return rows


COLUMNS = ["problem", "reward", "status", "completion"]


# ----- TensorBoard -----------------------------------------------------------------------------


class TensorBoardReporter:
    """Events in `<run>/tb/`. The writer is opened with `purge_step` = the first step this
    process logs, so after a resume TensorBoard drops what the earlier process wrote from that
    step on (no step appears twice). Hparams are written once, by the first writer of the run,
    at step 0 (before any purge)."""

    def __init__(self, run_path: Path, run_name: str) -> None:
        self.dir = run_path / "tb"
        self._writer: Any = None

    def start(self, first_step: int, hparams: Mapping[str, HparamValue]) -> None:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        fresh = not any(self.dir.glob("events.out.tfevents.*"))
        # Every writer marks its session start (TensorBoard takes the first mark as the run's
        # start and each later one as a restart dropping the steps from it on).
        self._writer = SummaryWriter(str(self.dir), purge_step=first_step)
        if fresh and hparams:
            # In this run's own event file (add_hparams would open a sub-run), naming the
            # headline metrics so the HParams dashboard shows them beside the values.
            metrics = {"reward/mean": 0.0, "pass/rate": 0.0}
            for summary in hparams_summary(dict(hparams), metrics):  # type: ignore[no-untyped-call]
                self._writer.file_writer.add_summary(summary, 0)

    def scalars(self, step: int, metrics: Mapping[str, float]) -> None:
        for key, value in metrics.items():
            self._writer.add_scalar(key, value, step)
        self._writer.flush()

    def samples(self, step: int, rows: Sequence[Mapping[str, Any]]) -> None:
        table = sample_rows(rows)
        if table:
            self._writer.file_writer.add_summary(_text_table("samples", table), step)
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _text_table(tag: str, rows: list[list[str]]) -> Any:
    """A text-plugin summary whose tensor is 2-D: TensorBoard renders it as a table (one
    header row, then one row per sample; each cell is markdown, so code goes in a fence)."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

    cells = [COLUMNS] + [[*row[:3], f"```\n{row[3]}\n```"] for row in rows]
    tensor = TensorProto(
        dtype="DT_STRING",
        string_val=[c.encode() for row in cells for c in row],
        tensor_shape=TensorShapeProto(
            dim=[TensorShapeProto.Dim(size=len(cells)), TensorShapeProto.Dim(size=len(COLUMNS))]
        ),
    )
    meta = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name="text", content=TextPluginData(version=0).SerializeToString()
        )
    )
    return Summary(value=[Summary.Value(tag=f"{tag}/text_summary", metadata=meta, tensor=tensor)])


# ----- the optional backends ------------------------------------------------------------------


def _run_ids(run_path: Path) -> dict[str, str]:
    path = run_path / "reporters.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save_run_id(run_path: Path, backend: str, run_id: str) -> None:
    """Backend run ids, so a resumed run continues the same W&B / MLflow run."""
    ids = {**_run_ids(run_path), backend: run_id}
    (run_path / "reporters.json").write_text(json.dumps(ids, indent=1) + "\n")


class WandbReporter:
    """Weights & Biases (`pip install 'rlaif-tui[wandb]'`); `WANDB_MODE=offline` keeps it local."""

    def __init__(self, run_path: Path, run_name: str) -> None:
        self.path = run_path
        self.name = run_name
        self._run: Any = None

    def start(self, first_step: int, hparams: Mapping[str, HparamValue]) -> None:
        import wandb

        run_id = _run_ids(self.path).get("wandb") or wandb.util.generate_id()
        self._run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "rlaif-tui"),
            name=self.name,
            id=run_id,
            resume="allow",
            dir=str(self.path),
            config=dict(hparams),
        )
        _save_run_id(self.path, "wandb", run_id)

    def scalars(self, step: int, metrics: Mapping[str, float]) -> None:
        self._run.log(dict(metrics), step=step)

    def samples(self, step: int, rows: Sequence[Mapping[str, Any]]) -> None:
        import wandb

        table = sample_rows(rows)
        if table:
            self._run.log({"samples": wandb.Table(columns=COLUMNS, data=table)}, step=step)

    def close(self) -> None:
        if self._run is not None:
            self._run.finish()
            self._run = None


class TrackioReporter:
    """trackio (`pip install 'rlaif-tui[trackio]'`): W&B's API, stored on this machine."""

    def __init__(self, run_path: Path, run_name: str) -> None:
        self.name = run_name
        self._run: Any = None

    def start(self, first_step: int, hparams: Mapping[str, HparamValue]) -> None:
        import trackio

        self._run = trackio.init(
            project=os.environ.get("TRACKIO_PROJECT", "rlaif-tui"),
            name=self.name,
            config=dict(hparams),
            resume="allow",
        )

    def scalars(self, step: int, metrics: Mapping[str, float]) -> None:
        import trackio

        trackio.log(dict(metrics), step=step)

    def samples(self, step: int, rows: Sequence[Mapping[str, Any]]) -> None:
        import trackio

        table = sample_rows(rows)
        if table:
            trackio.log({"samples": trackio.Table(columns=COLUMNS, data=table)}, step=step)

    def close(self) -> None:
        if self._run is not None:
            import trackio

            trackio.finish()
            self._run = None


class MlflowReporter:
    """MLflow (`pip install 'rlaif-tui[mlflow]'`): `MLFLOW_TRACKING_URI`, else a file store in
    `<run>/mlruns`. Keys keep their slashes; `@` (not allowed in MLflow keys) becomes `_at_`.
    MLflow has no purge: after a resume, the steps redone after the checkpoint are logged
    again (metrics.jsonl and TensorBoard hold them once)."""

    def __init__(self, run_path: Path, run_name: str) -> None:
        self.path = run_path
        self.name = run_name
        self._client: Any = None
        self._run_id = ""

    def start(self, first_step: int, hparams: Mapping[str, HparamValue]) -> None:
        from mlflow.tracking import MlflowClient

        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            # The local default: a file store in the run directory. MLflow 3 refuses file
            # stores unless told otherwise; a run that names no server chose this one.
            uri = (self.path / "mlruns").resolve().as_uri()
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self._client = MlflowClient(tracking_uri=uri)
        run_id = _run_ids(self.path).get("mlflow")
        if run_id is None:
            name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "rlaif-tui")
            experiment = self._client.get_experiment_by_name(name)
            exp_id = (
                experiment.experiment_id if experiment else self._client.create_experiment(name)
            )
            run_id = self._client.create_run(exp_id, run_name=self.name).info.run_id
            for key, value in hparams.items():  # params are write-once in MLflow
                self._client.log_param(run_id, _mlflow_key(key), value)
            _save_run_id(self.path, "mlflow", run_id)
        else:  # a resumed run continues its MLflow run
            self._client.update_run(run_id, status="RUNNING")
        self._run_id = run_id

    def scalars(self, step: int, metrics: Mapping[str, float]) -> None:
        for key, value in metrics.items():
            self._client.log_metric(self._run_id, _mlflow_key(key), float(value), step=step)

    def samples(self, step: int, rows: Sequence[Mapping[str, Any]]) -> None:
        table = sample_rows(rows)
        if table:
            text = "".join(json.dumps(dict(zip(COLUMNS, r, strict=True))) + "\n" for r in table)
            self._client.log_text(self._run_id, text, f"samples/step-{step:06d}.jsonl")

    def close(self) -> None:
        if self._client is not None:
            self._client.set_terminated(self._run_id)
            self._client = None


def _mlflow_key(key: str) -> str:
    return key.replace("@", "_at_")
