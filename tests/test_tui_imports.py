"""The TUI is a client: importing it must not pull in training code (docs/architecture.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = (
    "torch",
    "transformers",
    "peft",
    "rlaif_tui.train",
    "rlaif_tui.models",
    "rlaif_tui.algos",
)


@pytest.mark.parametrize("module", ["rlaif_tui.tui.app", "rlaif_tui.tui.cli"])
def test_tui_imports_no_training_code(module: str) -> None:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == [], f"{module} imports training code: {bad}"
    assert module in loaded  # the check looked at a real import


def test_rlaif_tui_help_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rlaif_tui.tui", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    for option in ("--url", "--token", "--run", "--demo"):
        assert option in out.stdout
