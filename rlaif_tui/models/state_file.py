"""Trainer state on disk without pickle: tensors in `trainer_state.safetensors`, the rest in
`trainer_state.json`. Loading never runs code from the file.

The state is a tree of dicts, lists, tuples, strings, numbers, None, torch tensors and numpy
arrays (the numpy RNG state). Tensors and arrays become a `{"__tensor__": key}` /
`{"__ndarray__": key, "dtype": ...}` reference into the safetensors file; a tuple is
`{"__tuple__": [...]}` (`random.setstate` needs one) and a dict with keys that are not all
strings (the optimizer's per-parameter state, keyed by int) is `{"__items__": [[k, v], ...]}`,
so the tree comes back with the same types. Floats round-trip exactly (JSON keeps repr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

JSON_FILE = "trainer_state.json"
TENSORS_FILE = "trainer_state.safetensors"
LEGACY_FILE = "trainer_state.pt"
"""The pickled state of checkpoints written before this format."""

FORMAT = 1


class StateFormatError(ValueError):
    """A checkpoint's trainer state cannot be read safely; the message names the file."""


def save_state(state: dict[str, Any], directory: Path) -> None:
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, tensors, "state")
    save_file(tensors, str(directory / TENSORS_FILE))
    text = json.dumps({"format": FORMAT, "state": tree}, indent=1)
    (directory / JSON_FILE).write_text(text + "\n", encoding="utf-8")


def load_state(directory: Path) -> dict[str, Any]:
    """The state saved by `save_state`, or an older `trainer_state.pt` read with
    `torch.load(weights_only=True)` (tensors, containers and numpy arrays only)."""
    path = directory / JSON_FILE
    if not path.exists():
        return _load_legacy(directory / LEGACY_FILE)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateFormatError(f"{path}: not readable trainer state ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateFormatError(f"{path}: unknown trainer-state format (expected {FORMAT})")
    tensors = load_file(str(directory / TENSORS_FILE))
    state = _decode(doc["state"], tensors)
    if not isinstance(state, dict):
        raise StateFormatError(f"{path}: the state is not an object")
    return state


def has_state(directory: Path) -> bool:
    """True when `directory` holds a complete checkpoint's trainer state (either format)."""
    return (directory / JSON_FILE).exists() or (directory / LEGACY_FILE).exists()


def _encode(value: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(value, np.ndarray):
        # Integers (the RNG's uint32 words) travel as int64, a dtype every torch has; the
        # numpy dtype is kept beside the reference.
        wide = value.astype(np.int64) if value.dtype.kind in "iub" else value.astype(np.float64)
        tensors[path] = torch.from_numpy(np.ascontiguousarray(wide))
        return {"__ndarray__": path, "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{path}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, tensors, f"{path}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, tensors, f"{path}.{k}") for k, v in value.items()}
        return {
            "__items__": [
                [_encode(k, tensors, f"{path}.key{i}"), _encode(v, tensors, f"{path}.{i}")]
                for i, (k, v) in enumerate(value.items())
            ]
        }
    raise TypeError(f"trainer state {path}: cannot store a {type(value).__name__}")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__ndarray__" in value:
        return tensors[value["__ndarray__"]].numpy().astype(np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__items__"]}
    return {k: _decode(v, tensors) for k, v in value.items()}


def _load_legacy(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise StateFormatError(f"{path.parent}: no trainer state ({JSON_FILE} or {LEGACY_FILE})")
    reconstruct = np.zeros(1).__reduce__()[0]  # numpy's array unpickler, wherever it lives
    allowed: list[Any] = [
        reconstruct,
        np.ndarray,
        np.dtype,
        *{type(np.dtype(t)) for t in ("u4", "i8", "f8", "?")},
    ]
    try:
        with torch.serialization.safe_globals(allowed):
            state: dict[str, Any] = torch.load(path, weights_only=True)
    except Exception as exc:  # torch's UnpicklingError names what it refused
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StateFormatError(
            f"{path}: this checkpoint predates the {JSON_FILE} format and holds objects "
            f"that are not loaded without unpickling ({first}); resume it with the "
            "rlaif-tui release that wrote it"
        ) from None
    return state
