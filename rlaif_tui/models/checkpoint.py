"""Checkpoints: weights in Hugging Face format plus everything needed to resume exactly.

`checkpoints/step-NNNNNN/` holds `save_pretrained` output (the adapter only under LoRA), the
tokenizer, the value head if any, and the trainer state (step, optimizer, scheduler, RNG
states, data-order/curriculum state, KL controller, live settings): `trainer_state.json` with
its tensors in `trainer_state.safetensors` (`models.state_file`; nothing is unpickled). It is
written to a temporary directory and renamed into place, and `checkpoints/latest` is replaced
last, so a kill at any moment leaves the previous checkpoint intact and `latest` naming a
complete one.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlaif_tui.models.state_file import JSON_FILE, has_state, load_state, save_state

STATE_FILE = JSON_FILE
"""Written last in a checkpoint (older checkpoints: `trainer_state.pt`; `is_complete`)."""


def is_complete(path: Path) -> bool:
    """True when `path` is a complete checkpoint directory (either state format)."""
    return path.is_dir() and has_state(path)


def rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def step_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:06d}"


def write_checkpoint(
    root: Path, step: int, save_weights: Any, state: dict[str, Any], keep: int
) -> Path:
    """Atomically write checkpoint `step` under `root`; `save_weights(path)` writes the model."""
    root.mkdir(parents=True, exist_ok=True)
    final = step_dir(root, step)
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_weights(tmp)
    save_state(state, tmp)
    _fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    latest_tmp = root / f".latest-{os.getpid()}"
    latest_tmp.write_text(final.name + "\n")
    os.replace(latest_tmp, root / "latest")
    _fsync_dir(root)
    _prune(root, keep)
    return final


def _fsync_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
            with child.open("rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, keep: int) -> None:
    done = sorted(p for p in root.glob("step-*") if is_complete(p))
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def latest_checkpoint(root: Path) -> Path | None:
    """The directory `checkpoints/latest` names, if it is complete."""
    pointer = root / "latest"
    if not pointer.exists():
        return None
    path = root / pointer.read_text().strip()
    return path if is_complete(path) else None


def read_state(path: Path) -> dict[str, Any]:
    """The trainer state of checkpoint `path`; never unpickles (`models.state_file`)."""
    return load_state(path)
