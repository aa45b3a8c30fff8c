"""Shared fixtures. Every test uses loopback addresses only and bounded loops."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_BENCHMARKS = REPO.parent / "shared" / "benchmarks"


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warm starts cache under a per-session temp dir, never the user's ~/.cache."""
    monkeypatch.setenv("RLAIF_TUI_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
