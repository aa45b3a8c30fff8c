"""The problem sets written for this project, in `data/problems/` of the repository (packaged
with rlaif-tui, see `rlaif_tui.resources`)."""

from __future__ import annotations

from pathlib import Path

from rlaif_tui.data.schema import Problem, ProblemError, load_problems
from rlaif_tui.resources import asset_root

PROBLEMS_DIR = asset_root() / "data" / "problems"
"""Where the bundled sets live inside the installed package."""


def bundled_path(name: str = "core") -> Path:
    """Path of the bundled set `name` (`data/problems/<name>.jsonl`)."""
    path = PROBLEMS_DIR / f"{name}.jsonl"
    if not path.exists():
        names = sorted(p.stem for p in PROBLEMS_DIR.glob("*.jsonl"))
        raise ProblemError(f"no bundled problem set {name!r} in {PROBLEMS_DIR}; have: {names}")
    return path


def bundled_problems(name: str = "core", *, split: str | None = None) -> list[Problem]:
    """Load a bundled set, optionally one split (`train` or `heldout`)."""
    return load_problems(bundled_path(name), split=split)
