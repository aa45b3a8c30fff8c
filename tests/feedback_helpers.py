"""Helpers for the feedback tests: a tiny byte-level GPT-2 built from a config (no download)
and a synthetic preference task where the chosen completion is the one that passes its tests."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import ByT5Tokenizer, GPT2Config, GPT2LMHeadModel

from rlaif_tui.feedback.pairs import Pair


def save_tiny_lm(path: Path, *, n_embd: int = 64, n_layer: int = 2, seed: int = 0) -> Path:
    """A freshly initialised GPT-2 over bytes, saved with its tokenizer into `path`."""
    tokenizer = ByT5Tokenizer()
    config = GPT2Config(
        vocab_size=384,
        n_positions=512,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=4,
        attn_pdrop=0.0,
        embd_pdrop=0.0,
        resid_pdrop=0.0,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing too
        return False


needs_sandbox = pytest.mark.skipif(
    not _have("rlaif_tui.reward.executor"),
    reason="the sandbox Executor is not in this checkout yet",
)
"""For tests that run programs: the sandbox (rlaif_tui.reward.Executor) is separate work."""


# (docstring verb, correct expression, wrong expressions) over arguments {a} and {b}
OPS = [
    ("sum", "{a} + {b}", ["{a} - {b}", "{a} * {b}"]),
    ("difference", "{a} - {b}", ["{a} + {b}", "{a} * {b}"]),
    ("product", "{a} * {b}", ["{a} + {b}", "{a} - {b}"]),
]
NAMES = ["x", "y", "a", "b", "m", "n", "p", "q", "u", "v", "i", "j", "s", "t", "lo", "hi"]
VERBS = ["calc", "get", "compute", "find", "make", "do", "eval", "op", "fn", "go"]


def passing_pairs(n: int, seed: int) -> list[Pair]:
    """Pairs whose chosen completion passes the task's tests and whose rejected one fails
    (a wrong operator, a dropped argument or `pass`). Names are random per pair."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        verb, right, wrongs = rng.choice(OPS)
        a, b = rng.sample(NAMES, 2)
        name = f"{rng.choice(VERBS)}{rng.randrange(100)}"
        prompt = f'def {name}({a}, {b}):\n    """{verb}"""\n'
        good = f"    return {right.format(a=a, b=b)}\n"
        if rng.random() < 0.2:
            bad = "    pass\n"
        else:
            bad = f"    return {rng.choice(wrongs).format(a=a, b=b)}\n"
        out.append(Pair(prompt, good, bad))
    return out


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models train far faster on one thread on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
