"""Load a YAML file into a pydantic model, with errors that name the file, line and field.

A typo in `configs/x.yaml` fails with

    configs/x.yaml:7: grpo.gruop_size: Extra inputs are not permitted

Relative paths inside a config (typed `ConfigPath`) resolve against the config file's
directory, so a config works from whatever directory the user runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says where and why."""


def _resolve_against_config(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is not None and not value.is_absolute():
        return (Path(base) / value).resolve()
    return value


ConfigPath = Annotated[Path, AfterValidator(_resolve_against_config)]
"""A path in a config file: relative paths resolve against the file's directory."""


def _line_index(node: yaml.Node, prefix: KeyPath = ()) -> dict[KeyPath, int]:
    """Map each key path in a composed YAML document to its 1-based line number."""
    lines: dict[KeyPath, int] = {prefix: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            lines.update(_line_index(value_node, key))
            lines[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*prefix, i)))
    return lines


def _nearest_line(lines: Mapping[KeyPath, int], loc: KeyPath) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {dotted}: {part} is not a section")
        node = child
    node[leaf] = value


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """Turn `["grpo.group_size=4", "model.name=gpt2"]` into `{dotted key: YAML value}`."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {pair!r}: expected KEY=VALUE, e.g. grpo.group_size=4")
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
    return out


def load_config(
    path: str | Path,
    model: type[M],
    overrides: Mapping[str, Any] | None = None,
) -> M:
    """Read `path` as YAML, apply dotted-key `overrides`, and validate it as `model`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of sections")
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)
    lines = _line_index(node) if node is not None else {}
    try:
        return model.model_validate(data, context={"base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc, lines, overrides or {})) from None


def _format_errors(
    path: Path,
    exc: ValidationError,
    lines: Mapping[KeyPath, int],
    overrides: Mapping[str, Any],
) -> str:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        if field in overrides:
            where = f"{path} (override {field})"
        else:
            line = _nearest_line(lines, loc)
            where = f"{path}:{line}" if line is not None else str(path)
        out.append(f"{where}: {field}: {err['msg']}")
    return "\n".join(out)
