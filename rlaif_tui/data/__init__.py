"""Problems: the schema, loading with line-level errors, importers and the bundled sets."""

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
)

__all__ = [
    "AssertsTests",
    "CheckTests",
    "IoCase",
    "IoTests",
    "Problem",
    "ProblemError",
    "Tests",
    "dump_problems",
    "load_problems",
]
