"""Problems: the schema, loading with line-level errors, importers and the bundled sets."""

from rlaif_tui.data.bundled import PROBLEMS_DIR, bundled_path, bundled_problems
from rlaif_tui.data.schema import (
    AssertsTests,
    CheckTests,
    IoCase,
    IoTests,
    Problem,
    ProblemError,
    Tests,
    dump_problems,
    load_problems,
    read_problems,
)

__all__ = [
    "PROBLEMS_DIR",
    "AssertsTests",
    "CheckTests",
    "IoCase",
    "IoTests",
    "Problem",
    "ProblemError",
    "Tests",
    "bundled_path",
    "bundled_problems",
    "dump_problems",
    "load_problems",
    "read_problems",
]
