"""MBPP sanitized (the hand-verified 427): `task_id, prompt, code, test_imports, test_list`.

As full MBPP (`importers.mbpp`): a docstring prompt with the first test, which is also the
public test; `test_imports` joined into the setup; ids `mbpp-sanitized/<task_id>` so both
variants can sit in one file.
"""

from __future__ import annotations

from pathlib import Path

from rlaif_tui.data.importers.common import Imported, field_of, read_records
from rlaif_tui.data.importers.mbpp import Split, mbpp_problem


def load(src: Path, *, split: Split | None = None) -> Imported:
    """Every record of `sanitized-mbpp.json`."""
    out = Imported()
    for where, record in read_records(src):
        task_id = field_of(record, where, "task_id", int)
        imports = [str(i) for i in record.get("test_imports") or []]
        out.problems.append(
            mbpp_problem(
                pid=f"mbpp-sanitized/{task_id}",
                task_id=task_id,
                text=field_of(record, where, "prompt", str),
                code=field_of(record, where, "code", str),
                tests=[str(t) for t in field_of(record, where, "test_list", list)],
                setup="\n".join(imports) + ("\n" if imports else ""),
                source="mbpp-sanitized",
                split=split,
                where=where,
            )
        )
    return out
