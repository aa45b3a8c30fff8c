"""The benchmark's pinned workload is the one rl-workload.md describes (not a timed test)."""

from __future__ import annotations

import pytest

from rlaif_tui.bench import workload as wl


def test_pinned_model_and_reward_self_test() -> None:
    if not (wl.benchmarks_dir() / "HumanEval.jsonl.gz").exists():
        pytest.skip(f"{wl.benchmarks_dir()}: HumanEval absent (shared/benchmarks not beside)")
    from rlaif_tui.models.tiny import TinySpec, build_tiny

    model, tok = build_tiny(TinySpec())
    assert sum(p.numel() for p in model.parameters()) == 3_520_000
    assert len(tok) == 384
    assert wl.state_sha256(model) == wl.STATE_SHA256  # same initial weights as TRL measured
    rows = wl.humaneval()
    lengths = [len(tok(r["prompt"]).input_ids) for r in rows]
    assert (min(lengths), max(lengths)) == (134, 581)
    assert wl.self_test() == (32, 0)
