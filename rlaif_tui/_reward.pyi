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

# Sandbox (reward_rs/src/sandbox/).

class SandboxSetupError(RewardError):
    """A sandbox lane could not start."""

class IsolationError(RewardError):
    """The isolation this machine gives is below the configured floor."""

class InvalidJobError(RewardError):
    """A job could not be parsed."""

class LimitsError(RewardError):
    """Invalid executor limits."""

class ExecutorClosedError(RewardError):
    """The executor was closed."""

@final
class Executor:
    """Sandboxed parallel executor: `workers` lanes, each a zygote and a trusted harness."""

    def __new__(
        cls,
        *,
        python: str | PathLike[str],
        package_root: str | PathLike[str],
        workers: int = 2,
        timeout_s: float = 5.0,
        memory_mb: int = 256,
        output_bytes: int = ...,
        nproc: int = 64,
        nofile: int = 64,
        fsize_mb: int = 16,
        disk_mb: int = 64,
        isolation_floor: str = "full",
        uid_base: int = 61000,
        tail_bytes: int = 4096,
        cache: RewardCache | None = None,
        interpreter: str = ...,
    ) -> Executor: ...
    def run(self, jobs: list[str]) -> list[str]:
        """Run jobs (JSON texts); returns outcome JSON texts in input order. The GIL is released."""
    @property
    def isolation(self) -> str:
        """The isolation level in force: "full", "partial", "minimal" or "none"."""
    @property
    def protections(self) -> str:
        """The protections in force, as JSON (one key per protection)."""
    @property
    def lanes(self) -> list[tuple[int, int, list[tuple[str, float]]]]:
        """Per lane at start: (zygote pid, harness pid, [(hardening step, CPU seconds)])."""
    @property
    def missing(self) -> list[str]:
        """Names of the protections "full" needs and this machine lacks."""
    def close(self) -> None:
        """Stop all lanes; their processes are killed and scratch space removed."""

def _zygote_setup(config_json: str) -> str: ...
def _zygote_new_pidns() -> None: ...
def _zygote_adopt_pidns() -> None: ...
def _make_job_dir(path: str | PathLike[str]) -> None: ...
def _child_harden(job_dir: str | PathLike[str], job_fd: int) -> list[tuple[str, float]]: ...
def _zygote_serve(ctl: int, link: int) -> list[tuple[str, float]]: ...
def _harness_confine(config_json: str) -> str: ...
def seccomp_denied() -> list[str]:
    """Names of the system calls the child's seccomp filter refuses."""

def landlock_abi() -> int:
    """Landlock ABI version of the running kernel (0 if none)."""

__all__ = [
    "CorruptFile",
    "Executor",
    "ExecutorClosedError",
    "InvalidInput",
    "InvalidJobError",
    "IsolationError",
    "LimitsError",
    "RewardCache",
    "RewardError",
    "SandboxSetupError",
    "__version__",
    "_child_harden",
    "_harness_confine",
    "_make_job_dir",
    "_zygote_adopt_pidns",
    "_zygote_new_pidns",
    "_zygote_serve",
    "_zygote_setup",
    "dr_grpo_advantages",
    "gae",
    "grpo_advantages",
    "landlock_abi",
    "masked_whiten",
    "rloo_advantages",
    "seccomp_denied",
]
