"""Shared fixtures. Every test uses loopback addresses only and bounded loops."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_BENCHMARKS = REPO.parent / "shared" / "benchmarks"


@pytest.fixture
def repo_root() -> Path:
    return REPO
