"""What `rlaif eval --model X` may name, resolved to a policy to load.

- a run directory (`config.yaml` + `checkpoints/`): its latest complete checkpoint, or the
  initial policy when it has none yet;
- a checkpoint directory (`checkpoints/step-NNNNNN`, holds `trainer_state.json`): that
  checkpoint, loaded with its run's model config (LoRA adapters, tiny models);
- a training config (`.yaml`): the policy that run would start from (e.g. the quickstart's
  warm start);
- anything else: a local Hugging Face directory or hub name (`model.source: hf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlaif_tui.config.model import ModelConfig
from rlaif_tui.config.train import TrainConfig
from rlaif_tui.models.checkpoint import is_complete, latest_checkpoint


@dataclass
class ModelRef:
    label: str
    model: ModelConfig
    init_from: Path | None
    train: TrainConfig | None
    """The run's config when the model came from a run (its sampling settings are defaults)."""


def _train_config(path: Path) -> TrainConfig:
    from rlaif_tui.config import load_config

    return load_config(path, TrainConfig, {})


def resolve_model(spec: str, *, device: str | None = None) -> ModelRef:
    """Resolve `spec` (see the module docstring); `device` overrides the config's."""
    path = Path(spec)
    ref: ModelRef
    if is_complete(path):
        run = path.parent.parent
        cfg = _train_config(run / "config.yaml") if (run / "config.yaml").exists() else None
        model = cfg.model if cfg else ModelConfig(source="hf", name=str(path))
        ref = ModelRef(str(path), model, path if cfg else None, cfg)
    elif path.is_dir() and (path / "config.yaml").exists() and (path / "checkpoints").is_dir():
        cfg = _train_config(path / "config.yaml")
        latest = latest_checkpoint(path / "checkpoints")
        label = f"{path} ({latest.name if latest else 'no checkpoint: initial policy'})"
        ref = ModelRef(label, cfg.model, latest, cfg)
    elif path.is_file() and path.suffix in (".yaml", ".yml"):
        cfg = _train_config(path)
        ref = ModelRef(f"{path} (initial policy)", cfg.model, None, cfg)
    elif path.is_dir():  # a saved model (`./dir`, `/abs/dir` as well as `dir`)
        ref = ModelRef(spec, ModelConfig(source="hf", name=str(path)), None, None)
    elif path.is_absolute() or spec.startswith((".", "~")) or path.suffix in (".yaml", ".yml"):
        raise FileNotFoundError(f"--model {spec}: no such run, checkpoint, config or model dir")
    else:
        ref = ModelRef(spec, ModelConfig(source="hf", name=spec), None, None)
    if device is not None:
        ref.model = ref.model.model_copy(update={"device": device})
    return ref


def load_ref(ref: ModelRef) -> Any:
    """Load the policy (no reference model: evaluation never needs one)."""
    from rlaif_tui.data import load_problems
    from rlaif_tui.models.policy import load_policy

    problems = []
    if ref.train is not None and ref.model.source == "tiny":
        # the warm start is keyed on the run's training problems, as the trainer loads them
        data = ref.train.data
        problems = [p for p in load_problems(data.problems) if data.split in (None, p.split)]
        if data.limit:
            problems = problems[: data.limit]
    model = ref.model.model_copy(update={"value_head": False})
    return load_policy(model, problems, need_reference=False, init_from=ref.init_from)
