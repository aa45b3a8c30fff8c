"""Device, autocast dtype and CPU threads: one decision, made once per run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch


def pick_device(choice: str) -> torch.device:
    """`auto`: cuda, then mps, then cpu; an explicit choice that is absent is an error."""
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("model.device=cuda but torch sees no CUDA device; use auto or cpu")
    if choice == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("model.device=mps but MPS is not available; use auto or cpu")
    return torch.device(choice)


def pick_autocast(device: torch.device, choice: str) -> torch.dtype | None:
    """The autocast dtype, or None for plain float32 (always on CPU: CPU autocast is slower
    than fp32 for these shapes and changes the numerics)."""
    if choice == "float32" or device.type == "cpu":
        if choice in ("bfloat16", "float16") and device.type == "cpu":
            raise RuntimeError(f"model.dtype={choice} on CPU: use float32 or auto")
        return None
    if choice == "bfloat16":
        return torch.bfloat16
    if choice == "float16":
        return torch.float16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def set_threads(threads: int | None) -> int:
    """Use the cores this process may run on unless told otherwise; returns the count."""
    n = threads
    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = n or 1
    torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    if dtype is None:
        yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield
