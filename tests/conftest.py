"""Shared fixtures. Every test uses loopback addresses only and bounded loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# `../shared/benchmarks` from the main checkout; worktrees (`wt/<name>`) sit one level deeper.
# RLAIF_BENCHMARKS overrides. Tests that need the files skip with a reason when absent.
_BENCHMARK_DIRS = [
    REPO.parent / "shared" / "benchmarks",
    REPO.parent.parent / "shared" / "benchmarks",
]
SHARED_BENCHMARKS = Path(
    os.environ.get("RLAIF_BENCHMARKS")
    or next((d for d in _BENCHMARK_DIRS if d.is_dir()), _BENCHMARK_DIRS[0])
)


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def shared_benchmarks() -> Path:
    """The directory of the shared benchmark files (may not exist; tests skip then)."""
    return SHARED_BENCHMARKS


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warm starts cache under a per-session temp dir, never the user's ~/.cache."""
    monkeypatch.setenv("RLAIF_TUI_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
