"""Rollout: shared-prefix forwards equal full forwards; sampling, stops and determinism."""

from __future__ import annotations

import pytest
import torch

from rlaif_tui.data import load_problems
from rlaif_tui.models.prefix import (
    completion_forward,
    encode_prefix,
    full_forward,
    token_logprobs,
)
from rlaif_tui.models.program import prompt_text, to_program
from rlaif_tui.models.rollout import generate, sample_next
from rlaif_tui.models.tiny import TinySpec, build_tiny


@pytest.fixture(scope="module")
def tiny() -> tuple[torch.nn.Module, object]:
    model, tok = build_tiny(TinySpec(n_embd=32, n_layer=2, n_head=2, n_positions=128, dropout=0.0))
    return model.eval(), tok


PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [12, 13, 14], [15, 16, 17, 18, 19]]


def test_shared_prefix_equals_full_forward_values_and_grads(tiny: tuple) -> None:
    model, _ = tiny
    comp = torch.randint(3, 250, (6, 5), generator=torch.Generator().manual_seed(1))
    shared, h1 = completion_forward(model, encode_prefix(model, PROMPTS), 2, comp, want_hidden=True)
    full, h2 = full_forward(model, PROMPTS, 2, comp, pad_id=0, want_hidden=True)
    assert torch.allclose(shared, full, atol=1e-5)
    assert h1 is not None
    assert h2 is not None
    assert torch.allclose(h1, h2, atol=1e-5)
    token_logprobs(shared, comp).sum().backward()
    g_shared = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    token_logprobs(full, comp).sum().backward()
    for n, p in model.named_parameters():
        assert p.grad is not None
        assert torch.allclose(g_shared[n], p.grad, atol=1e-4, rtol=1e-4), n
    model.zero_grad()


def test_generation_logprobs_match_a_fresh_forward(tiny: tuple) -> None:
    model, tok = tiny
    r = generate(
        model,
        tok,
        PROMPTS,
        3,
        max_new_tokens=6,
        temperature=0.8,
        generator=torch.Generator().manual_seed(0),
    )
    assert r.completion_ids.shape[0] == 9
    with torch.no_grad():
        logits, _ = full_forward(model, PROMPTS, 3, r.completion_ids, pad_id=0)
    fresh = token_logprobs(logits, r.completion_ids, 0.8)
    m = r.mask.bool()
    assert torch.allclose(fresh[m], r.sample_logp[m], atol=1e-5)


def test_sampling_is_determined_by_the_generator(tiny: tuple) -> None:
    model, tok = tiny
    a = generate(
        model, tok, PROMPTS, 2, max_new_tokens=5, generator=torch.Generator().manual_seed(7)
    )
    b = generate(
        model, tok, PROMPTS, 2, max_new_tokens=5, generator=torch.Generator().manual_seed(7)
    )
    c = generate(
        model, tok, PROMPTS, 2, max_new_tokens=5, generator=torch.Generator().manual_seed(8)
    )
    assert torch.equal(a.completion_ids, b.completion_ids)
    assert not torch.equal(a.completion_ids, c.completion_ids)


def test_top_p_keeps_only_the_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.05, 0.05]])).repeat(400, 1)
    ids, _ = sample_next(logits, 1.0, 0.8, torch.Generator().manual_seed(0))
    assert set(ids.tolist()) == {0, 1}  # 0.6 + 0.3 covers 0.8; the tail is never sampled


class AlwaysX(torch.nn.Module):
    """The tiny model with a huge logit bias toward "x" (byte 120 -> id 123)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, **kwargs: object) -> object:
        out = self.inner(**kwargs)
        out.logits = out.logits.clone()
        out.logits[..., 123] += 100.0
        return out


def test_stop_sequences_cut_text_and_keep_tokens(tiny: tuple) -> None:
    model, tok = tiny
    r = generate(
        AlwaysX(model),
        tok,
        PROMPTS[:1],
        2,
        max_new_tokens=10,
        stop=["\ndef", "xxx"],
        generator=torch.Generator().manual_seed(0),
    )
    assert r.finish == ["stop", "stop"]
    assert r.texts == ["", ""]  # cut where the stop string starts
    assert r.mask.sum(1).tolist() == [3, 3]  # the tokens that made it stay in the loss


def test_prompts_never_contain_hidden_tests(repo_root) -> None:  # type: ignore[no-untyped-def]
    problems = load_problems(repo_root / "data" / "quickstart" / "problems.jsonl")[:50]
    for p in problems:
        shown = prompt_text(p, show_public_tests=True)
        assert p.tests.kind == "asserts"
        for hidden in p.tests.asserts:
            assert hidden not in shown
        assert p.public_tests is not None
        assert p.public_tests.kind == "asserts"
        assert p.public_tests.asserts[0] in shown


def test_chat_answers_become_programs() -> None:
    problems = load_problems_one()
    p = problems[0]
    answer = "Sure:\n```python\ndef " + p.entry_point + "(x):\n    return x\n```\nDone."
    assert to_program(p, answer, chat=True).startswith("def " + p.entry_point)
    body = "```python\n    return 1\n```"
    assert to_program(p, body, chat=True) == p.prompt + "    return 1\n"
    assert to_program(p, "    return 1\n", chat=False) == p.prompt + "    return 1\n"


def load_problems_one() -> list:  # type: ignore[type-arg]
    from train_helpers import PROBLEMS

    return load_problems(PROBLEMS)[:1]
