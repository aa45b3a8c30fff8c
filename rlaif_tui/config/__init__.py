"""Validated configuration: YAML files in `configs/` loaded into pydantic models."""

from rlaif_tui.config.loader import ConfigError, ConfigPath, load_config, parse_overrides

__all__ = ["ConfigError", "ConfigPath", "load_config", "parse_overrides"]
