from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from rlaif_tui.config import ConfigError, ConfigPath, load_config, parse_overrides


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group_size: int = Field(8, ge=2)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "run"
    data: ConfigPath = Path("problems.jsonl")
    grpo: Inner = Inner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    return path


def test_typo_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\ngrpo:\n  gruop_size: 4\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, Outer)
    assert str(err.value) == f"{path}:3: grpo.gruop_size: Extra inputs are not permitted"


def test_out_of_range_value_points_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "grpo:\n\n  group_size: 1\n")
    with pytest.raises(ConfigError, match=r"x\.yaml:3: grpo\.group_size: Input should be greater"):
        load_config(path, Outer)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\ngrpo: [1, 2\n")
    with pytest.raises(ConfigError, match=r"x\.yaml:\d+: invalid YAML"):
        load_config(path, Outer)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "data: ../data/train.jsonl\n")
    cfg = load_config(path, Outer)
    assert cfg.data == (tmp_path.parent / "data" / "train.jsonl").resolve()


def test_overrides_apply_and_their_errors_name_the_override(tmp_path: Path) -> None:
    path = write(tmp_path, "grpo:\n  group_size: 4\n")
    cfg = load_config(path, Outer, parse_overrides(["grpo.group_size=6"]))
    assert cfg.grpo.group_size == 6
    with pytest.raises(ConfigError, match=r"override grpo\.group_size\): grpo\.group_size"):
        load_config(path, Outer, parse_overrides(["grpo.group_size=0"]))
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_overrides(["grpo.group_size"])


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml", Outer)
