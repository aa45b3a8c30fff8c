"""Files shipped with the package: the training configs, the quickstart problems, the bundled
problem sets and the example sandbox jobs.

The repository's top-level `configs/` and `data/` folders are the source of truth; the package
reaches them through the symlinks `rlaif_tui/_assets/{configs,data}`, and maturin copies the
files behind the links into the wheel (`[tool.maturin] include` in `pyproject.toml`). Either
way, `importlib.resources` finds them beside the installed package, so an installed
`rlaif train` runs its defaults from any directory. Standard library only: the TUI imports it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


class MissingAsset(FileNotFoundError):
    """A packaged file is not where the package expects it (a broken install)."""


def asset_root() -> Path:
    """`rlaif_tui/_assets` of this installation (a real directory, also in an editable install)."""
    root = files("rlaif_tui").joinpath("_assets")
    if not isinstance(root, Path):  # a zip import: the extension module rules it out anyway
        raise MissingAsset(f"rlaif-tui's packaged files are not on disk ({root})")
    return root


def asset(*parts: str) -> Path:
    """Path of a packaged file, e.g. `asset("configs", "smoke.yaml")`."""
    path = asset_root().joinpath(*parts)
    if not path.exists():
        raise MissingAsset(f"{path}: not found in the installed rlaif-tui (reinstall it)")
    return path


def config_path(name: str) -> Path:
    """A packaged training config by file stem: `config_path("quickstart")`."""
    return asset("configs", f"{name}.yaml")


def packaged_configs() -> list[str]:
    """Stems of the packaged training configs."""
    return sorted(p.stem for p in asset_root().joinpath("configs").glob("*.yaml"))


def find_config(path: Path) -> Path:
    """`path` itself when it exists; else, for a bare name such as `smoke` or `smoke.yaml`, the
    packaged config of that name (so `--config smoke` works from any directory)."""
    if path.exists() or len(path.parts) != 1:
        return path
    candidate = asset_root() / "configs" / (path.name if path.suffix else f"{path.name}.yaml")
    return candidate if candidate.is_file() else path
