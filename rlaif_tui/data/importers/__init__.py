"""Importers from public problem formats into the problem schema, one module per format.

Each module's `load(src, *, split=None, ...)` returns an `Imported` (problems, plus records
left out with a reason) and raises `SourceError` naming the file, record and field on input
it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rlaif_tui.data.importers import apps, codecontests, humaneval, leetcode, mbpp, mbpp_sanitized
from rlaif_tui.data.importers.common import Imported, SourceError

FORMATS: dict[str, Callable[..., Imported]] = {
    "humaneval": humaneval.load,
    "mbpp": mbpp.load,
    "mbpp-sanitized": mbpp_sanitized.load,
    "apps": apps.load,
    "codecontests": codecontests.load,
    "leetcode": leetcode.load,
}


def import_problems(fmt: str, src: str | Path, **options: object) -> Imported:
    """Read `src` in format `fmt` (a key of `FORMATS`)."""
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    path = Path(src)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    return FORMATS[fmt](path, **options)


__all__ = ["FORMATS", "Imported", "SourceError", "import_problems"]
