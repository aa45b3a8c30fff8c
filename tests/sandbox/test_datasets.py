"""Legitimate programs: HumanEval canonical solutions pass and wrong ones fail; MBPP sanitized
solutions pass. The shared benchmark files are read in place."""

from __future__ import annotations

import pytest

from rlaif_tui.bench.data import humaneval, humaneval_job, humaneval_wrong, mbpp_sanitized
from rlaif_tui.reward import Executor

# MBPP tasks whose solutions return `re.Match` objects, tested only for truthiness: they cross
# as opaque handles and come back flagged `opaque_value`.
MBPP_OPAQUE = {737, 787, 794}


def test_humaneval_canonical_solutions_all_pass_and_wrong_ones_fail(executor: Executor) -> None:
    problems = humaneval()
    if problems is None:
        pytest.skip("shared/benchmarks/HumanEval.jsonl.gz is not present")
    outcomes = executor.run([humaneval_job(p) for p in problems])
    failed = [(o.id, o.status, o.message) for o in outcomes if not o.passed]
    assert not failed
    assert [o.id for o in outcomes] == [p["task_id"] for p in problems]
    helpers = {o.id for o in outcomes if "test_uses_candidate_helper" in o.flags}
    assert helpers == {"HumanEval/32", "HumanEval/38", "HumanEval/50"}
    wrong = executor.run([humaneval_wrong(p) for p in problems])
    assert not [o.id for o in wrong if o.passed]


def test_mbpp_sanitized_sample_passes(executor: Executor) -> None:
    problems = mbpp_sanitized()
    if problems is None:
        pytest.skip("shared/benchmarks/sanitized-mbpp.json is not present")
    # Every fourth task, plus the opaque ones; 123 is left out for time (it runs for seconds).
    sample = [p for i, p in enumerate(problems) if (i % 4 == 0 or p["task_id"] in MBPP_OPAQUE)]
    sample = [p for p in sample if p["task_id"] != 123]
    jobs = [
        {
            "id": str(p["task_id"]),
            "code": p["code"],
            "tests": {
                "kind": "asserts",
                "asserts": p["test_list"],
                "setup": "\n".join(p["test_imports"]),
            },
        }
        for p in sample
    ]
    outcomes = executor.run(jobs)
    assert not [(o.id, o.status, o.message) for o in outcomes if not o.passed]
    opaque = {int(o.id) for o in outcomes if "opaque_value" in o.flags}
    assert opaque == MBPP_OPAQUE
