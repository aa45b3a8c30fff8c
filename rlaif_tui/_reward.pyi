# Hand-written stub for the Rust extension `rlaif_tui._reward` (reward_rs/src/python.rs).
# Checked against the compiled module by `python -m mypy.stubtest rlaif_tui._reward`.

from os import PathLike
from typing import Any, Literal, final

import numpy as np
import numpy.typing as npt

__version__: str

# float32 in (all float inputs float32) -> float32 out; anything else -> float64.
_Floats = npt.NDArray[np.floating[Any]]

class RewardError(Exception):
    """Base class of the errors raised by the reward core."""

class InvalidInput(RewardError):
    """An argument the caller can fix: NaN input, disagreeing shapes, an unknown option."""

class CorruptFile(RewardError):
    """A persisted file that exists but cannot be trusted (bad magic, truncated, checksum)."""

# Advantage math (reward_rs/src/advantage.rs). Give exactly one of group_size / group_ids.

def grpo_advantages(
    rewards: npt.ArrayLike,
    group_size: int | None = None,
    *,
    group_ids: npt.ArrayLike | None = None,
    scale: Literal["group", "batch", "none"] = "group",
    eps: float = 1e-4,
    ddof: int = 1,
) -> _Floats: ...
def dr_grpo_advantages(
    rewards: npt.ArrayLike,
    group_size: int | None = None,
    *,
    group_ids: npt.ArrayLike | None = None,
) -> _Floats: ...
def rloo_advantages(
    rewards: npt.ArrayLike,
    group_size: int | None = None,
    *,
    group_ids: npt.ArrayLike | None = None,
) -> _Floats: ...
def masked_whiten(
    values: npt.ArrayLike,
    mask: npt.ArrayLike,
    *,
    shift_mean: bool = True,
    eps: float = 1e-8,
    ddof: int = 1,
) -> _Floats: ...
def gae(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    mask: npt.ArrayLike,
    *,
    gamma: float = 1.0,
    lam: float = 0.95,
) -> tuple[_Floats, _Floats]: ...

# Reward cache (reward_rs/src/cache.rs).

@final
class RewardCache:
    def __new__(
        cls, max_entries: int = 100_000, max_bytes: int | None = 268_435_456
    ) -> RewardCache: ...
    @staticmethod
    def key(parts: list[bytes | str]) -> str: ...
    def get(self, key: str) -> str | None: ...
    def put(self, key: str, value: str) -> bool: ...
    def __contains__(self, key: str, /) -> bool: ...
    def __len__(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    @property
    def max_entries(self) -> int: ...
    @property
    def max_bytes(self) -> int | None: ...
    def save(self, path: str | PathLike[str]) -> int: ...
    def load(self, path: str | PathLike[str], *, missing_ok: bool = False) -> int: ...

__all__ = [
    "CorruptFile",
    "InvalidInput",
    "RewardCache",
    "RewardError",
    "__version__",
    "dr_grpo_advantages",
    "gae",
    "grpo_advantages",
    "masked_whiten",
    "rloo_advantages",
]
