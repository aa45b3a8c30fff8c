"""The warm-start and optimizer levers of issue 14: realistic mistakes in a share of the
supervised references, and embeddings in their own learning-rate group."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from train_helpers import LetterShare, tiny_config

from rlaif_tui.data import Problem
from rlaif_tui.models.mistakes import mistake_kinds, mutate
from rlaif_tui.models.tiny import TinySpec, build_tiny
from rlaif_tui.models.warmstart import WarmStartRecipe, _flawed, encode_pairs, recipe_key
from rlaif_tui.train.trainer import Trainer


def test_each_mistake_changes_one_token_and_keeps_the_code_parseable() -> None:
    rng = random.Random(0)
    source = "    return max(x, y) - 17 if x < 3 else x * 2\n"
    assert mistake_kinds(source) == [
        "off_by_one",
        "wrong_builtin",
        "wrong_comparison",
        "wrong_constant",
        "wrong_operator",
    ]
    seen = set()
    for _ in range(200):
        wrong = mutate(source, rng)
        assert wrong is not None
        assert wrong != source
        compile("def f(x, y):\n" + wrong, "<mutant>", "exec")
        a, b = source.split(), wrong.split()
        assert len(a) == len(b)
        assert sum(x != y for x, y in zip(a, b, strict=True)) == 1, wrong
        seen.add(wrong)
    assert len(seen) > 10  # sites and changes are drawn, not always the same
    assert mutate(mutate("    return 'a+b'\n", rng) or "", rng) is None  # strings untouched
    assert mutate("    return s.upper()\n", rng) is None
    with pytest.raises(ValueError, match="valid: off_by_one"):
        mutate(source, rng, kinds=["typo"])


def test_the_documented_share_of_drawn_examples_carries_a_mistake() -> None:
    _, tok = build_tiny(TinySpec(n_embd=8, n_layer=1, n_head=1, n_positions=32))
    problems = [
        Problem.model_validate(
            {
                "id": f"p/{i}",
                "prompt": f"def f(x):\n    '''Return x plus {i + 10}.'''\n",
                "tests": {"kind": "asserts", "asserts": [f"assert f(0) == {i + 10}"]},
                "reference": f"    return x + {i + 10}\n",
            }
        )
        for i in range(20)
    ]
    pairs = encode_pairs(tok, problems)
    draw = _flawed(tok, problems, pairs, random.Random(1), share=0.3)
    n = 2000
    wrong = sum(draw(i % 20) != pairs[i % 20] for i in range(n))
    assert abs(wrong / n - 0.3) < 0.04
    exact = _flawed(tok, problems, pairs, random.Random(1), share=0.0)
    assert all(exact(i) == pairs[i] for i in range(20))
    spec = TinySpec(n_embd=8, n_layer=1, n_head=1, n_positions=32)
    key = recipe_key(WarmStartRecipe(spec=spec), problems)
    assert key != recipe_key(WarmStartRecipe(spec=spec, mistake_share=0.3), problems)


@pytest.mark.parametrize("scale", [0.0, 0.1])
def test_embedding_lr_scale_slows_or_freezes_the_embeddings(tmp_path: Path, scale: float) -> None:
    cfg = tiny_config(optim={"lr": 1e-2, "schedule": "constant", "embedding_lr_scale": scale})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    model = trainer.policy.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer.step()
    trainer.close()
    after = {n: p.detach() for n, p in model.named_parameters()}
    body = [n for n in before if "wte" not in n and "wpe" not in n]
    assert all(not torch.equal(before[n], after[n]) for n in body)
    emb_move = max(
        float((after[n] - before[n]).abs().max())
        for n in ("transformer.wte.weight", "transformer.wpe.weight")
    )
    body_move = max(float((after[n] - before[n]).abs().max()) for n in body)
    if scale == 0.0:
        assert emb_move == 0.0
    else:  # Adam's first step moves a weight by about its group's lr
        assert 0.0 < emb_move < 0.3 * body_move
    lrs = sorted(g["lr"] for g in trainer.optimizer.param_groups)
    assert lrs == ([1e-2] if scale == 0.0 else [pytest.approx(1e-3), 1e-2])
