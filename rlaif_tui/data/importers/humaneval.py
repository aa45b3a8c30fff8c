"""HumanEval (Chen et al. 2021): `task_id, prompt, canonical_solution, test, entry_point`.

The prompt is used verbatim (a signature and docstring), the tests are its `check(candidate)`
source, and the reference is the canonical solution, so the program is `prompt + completion`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rlaif_tui.data.importers.common import Imported, field_of, make_problem, read_records


def load(src: Path, *, split: Literal["train", "heldout"] | None = None) -> Imported:
    """Every record of `HumanEval.jsonl(.gz)`; all `heldout` unless `split` says otherwise."""
    out = Imported()
    for where, record in read_records(src):
        entry_point = field_of(record, where, "entry_point", str)
        check = field_of(record, where, "test", str)
        out.problems.append(
            make_problem(
                where,
                id=field_of(record, where, "task_id", str),
                prompt=field_of(record, where, "prompt", str),
                entry_point=entry_point,
                tests={"kind": "check", "check": check, "entry_point": entry_point},
                reference=field_of(record, where, "canonical_solution", str),
                split=split or "heldout",
                source="humaneval",
            )
        )
    return out
