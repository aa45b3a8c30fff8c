"""`rlaif daemon` refuses unsafe or broken set-ups before it loads anything, and says why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RLAIF = Path(sys.executable).parent / "rlaif"
SMOKE = Path(__file__).resolve().parent.parent / "configs" / "smoke.yaml"


def daemon(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    command = [str(RLAIF), "daemon", "--config", str(SMOKE), "--run-dir", str(tmp_path / "run")]
    out = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, env=env or {"PATH": ""}
    )
    return out.returncode, out.stderr


def test_a_non_loopback_bind_needs_a_token_given_by_the_user(tmp_path: Path) -> None:
    code, err = daemon(tmp_path, "--host", "0.0.0.0")
    assert code == 2
    assert "not a loopback address" in err
    assert "--token-file" in err
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_short_token_and_half_a_tls_pair_are_refused(tmp_path: Path) -> None:
    code, err = daemon(tmp_path, "--token", "short")
    assert code == 2
    assert "at least 16 characters" in err
    code, err = daemon(tmp_path, "--tls-cert", str(SMOKE), "--token", "x" * 20)
    assert code == 2
    assert "--tls-key" in err


def test_several_ranks_are_refused_with_a_pointer_to_rlaif_train(tmp_path: Path) -> None:
    code, err = daemon(tmp_path, env={"PATH": "", "WORLD_SIZE": "2"})
    assert code == 2
    assert "rlaif train" in err
