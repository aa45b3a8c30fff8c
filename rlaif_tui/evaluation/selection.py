"""AlphaCode-style selection: n submissions out of k samples, reported as n@k.

Li et al. 2022 ("Competition-level code generation with AlphaCode", sec. 4.5): sample many
programs, drop those failing the public tests, cluster the rest by their behaviour on extra
inputs, and submit one program from each of the n largest clusters. n@k is the share of
problems where one of those n submissions passes the hidden tests.

From N samples per problem, n@k (k <= N) is estimated as AlphaCode does: draw k-subsets
(`draws` of them, seeded; one when k = N), run the selection on each and average. Public tests
and probe inputs (`probes.py`) are all the selector sees; hidden tests only grade its picks.
Without public tests nothing is filtered; without probe inputs samples cluster by program text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rlaif_tui.data import IoTests, Problem
from rlaif_tui.data.schema import IoCase
from rlaif_tui.evaluation.probes import behaviour, function_probes, io_inputs, probe_program
from rlaif_tui.evaluation.run import EvalReport
from rlaif_tui.reward.runner import Runner


@dataclass
class Candidates:
    """What the selector knows about one problem's N samples, plus the hidden verdicts."""

    public_ok: list[bool]
    signature: list[str]
    hidden_ok: list[bool]


def pick(cands: Candidates, subset: Sequence[int], n: int) -> list[int]:
    """Indices submitted from `subset`: the first member of each of the n largest clusters."""
    clusters: dict[str, list[int]] = defaultdict(list)
    for i in subset:
        if cands.public_ok[i]:
            clusters[cands.signature[i]].append(i)
    ranked = sorted(
        clusters.values(), key=lambda members: (-len(members), subset.index(members[0]))
    )
    return [members[0] for members in ranked[:n]]


def n_at_k(cands: Candidates, n: int, k: int, *, draws: int = 200, seed: int = 0) -> float:
    total = len(cands.hidden_ok)
    if k > total:
        raise ValueError(f"{n}@{k} needs at least {k} samples, have {total}")
    rng = np.random.default_rng(seed)
    rounds = 1 if k == total else draws
    wins = 0
    for _ in range(rounds):
        subset = list(range(total)) if k == total else rng.permutation(total)[:k].tolist()
        wins += any(cands.hidden_ok[i] for i in pick(cands, subset, n))
    return wins / rounds


def _jobs(problem: Problem, programs: Sequence[str]) -> tuple[list[dict[str, Any]], str]:
    """Probe jobs for each program (in program order) and how samples are told apart."""
    if isinstance(problem.public_tests, IoTests):
        inputs = io_inputs(problem)
        jobs = [
            problem.job(code, IoTests(cases=[IoCase(stdin=s, stdout="")]))
            for code in programs
            for s in inputs
        ]
        return jobs, f"{len(inputs)} public stdin input(s)"
    calls = function_probes(problem)
    if not calls:
        return [], "program text (no probe inputs)"
    trivial = {"kind": "asserts", "asserts": ["assert True"]}
    jobs = [{"id": problem.id, "code": probe_program(c, calls), "tests": trivial} for c in programs]
    return jobs, f"{len(calls)} probe call(s)"


def candidates(
    problem: Problem, programs: Sequence[str], hidden_ok: Sequence[bool], run: Runner
) -> tuple[Candidates, str]:
    public_ok = [True] * len(programs)
    if problem.public_tests is not None:
        outcomes = run([problem.job(code, problem.public_tests) for code in programs])
        public_ok = [bool(o.get("passed")) for o in outcomes]
    jobs, how = _jobs(problem, programs)
    if not jobs:
        signature = [" ".join(code.split()) for code in programs]
    else:
        per = len(jobs) // len(programs)
        seen = [behaviour(o) for o in run(jobs)]
        signature = ["\x1f".join(seen[i * per : (i + 1) * per]) for i in range(len(programs))]
    return Candidates(public_ok, signature, list(hidden_ok)), how


def select_report(
    report: EvalReport, ns: Sequence[int], ks: Sequence[int], run: Runner, *, seed: int = 0
) -> dict[str, Any]:
    """n@k for every n in `ns` and k in `ks` with n <= k <= the fewest samples of a problem."""
    fewest = min((r.n for r in report.results), default=0)
    pairs = [(n, k) for k in ks for n in ns if n <= k <= fewest]
    per_problem: dict[str, Any] = {}
    sums = dict.fromkeys(pairs, 0.0)
    for problem, programs, result in zip(
        report.problems, report.programs, report.results, strict=True
    ):
        cands, how = candidates(problem, programs, result.passed, run)
        row: dict[str, Any] = {
            "public_pass": sum(cands.public_ok),
            "clusters": len(
                {s for s, ok in zip(cands.signature, cands.public_ok, strict=True) if ok}
            ),
            "clustered_by": how,
        }
        for n, k in pairs:
            value = n_at_k(cands, n, k, seed=seed)
            row[f"{n}@{k}"] = value
            sums[(n, k)] += value
        per_problem[problem.id] = row
    count = max(1, len(report.results))
    return {
        "n@k": {f"{n}@{k}": total / count for (n, k), total in sums.items()},
        "per_problem": per_problem,
        "skipped": [f"{n}@{k}" for k in ks for n in ns if n <= k and k > fewest],
    }
