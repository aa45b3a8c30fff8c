"""Training config: errors name file, line and field; presets load; CLI reports them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rlaif_tui.config import ConfigError, load_config
from rlaif_tui.config.train import TrainConfig

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text(text)
    return path


def test_typo_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "run:\n  steps: 3\nrollout:\n  group_sise: 4\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, TrainConfig)
    assert str(err.value) == f"{path}:4: rollout.group_sise: Extra inputs are not permitted"


def test_bad_value_and_cross_field_errors_say_how_to_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "rollout:\n  group_size: 1\n")
    with pytest.raises(ConfigError, match=r"train\.yaml:2: rollout\.group_size: Input should"):
        load_config(path, TrainConfig)
    path = write(tmp_path, "algorithm: ppo2\n")
    with pytest.raises(ConfigError, match=r":1: algorithm: .*'ppo2' is not one of grpo, rloo"):
        load_config(path, TrainConfig)
    path = write(tmp_path, "grpo:\n  loss_type: token_sum\n")
    with pytest.raises(ConfigError, match=r":2: grpo\.loss_type: .*not one of dapo, grpo"):
        load_config(path, TrainConfig)
    path = write(tmp_path, "reward:\n  weights: {judgee: 1.0}\n")
    with pytest.raises(ConfigError, match=r":2: reward\.weights: .*\['judgee'\]; valid: exec"):
        load_config(path, TrainConfig)
    path = write(tmp_path, "grpo:\n  minibatches: 9\n")
    with pytest.raises(ConfigError, match="a minibatch holds whole groups, so lower it"):
        load_config(path, TrainConfig)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_presets_load(name: str) -> None:
    cfg = load_config(REPO / "configs" / name, TrainConfig)
    assert cfg.data.problems.exists() or cfg.model.source == "hf"


def test_cli_reports_config_errors_with_location(tmp_path: Path) -> None:
    path = write(tmp_path, "kl:\n  coeff: 0.1\n")
    out = subprocess.run(
        [sys.executable, "-m", "rlaif_tui.cli.main", "train", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert f"{path}:2: kl.coeff: Extra inputs are not permitted" in out.stderr


def test_training_side_never_imports_textual() -> None:
    code = (
        "import sys\n"
        "import rlaif_tui.train.trainer, rlaif_tui.train.loop, rlaif_tui.cli.main\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
