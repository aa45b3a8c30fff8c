"""Tiny GPT-2-shaped causal LMs built from a config, with a byte-level tokenizer.

Nothing is downloaded: the tokenizer is `ByT5Tokenizer` (bytes + 3 specials, no vocabulary
file) and the weights are initialised from a seed. Used by the quickstart, the smoke config,
the tests and `rlaif bench train` (whose pinned workload is exactly `build_tiny(TinySpec())`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import ByT5Tokenizer, GPT2Config, GPT2LMHeadModel

PAD_ID = 0
EOS_ID = 1


@dataclass(frozen=True)
class TinySpec:
    """Shape of a tiny GPT-2; the defaults are the benchmark workload's pinned model."""

    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_positions: int = 1024
    dropout: float = 0.1
    seed: int = 0


def byte_tokenizer() -> ByT5Tokenizer:
    """Byte-level tokenizer: id = byte + 3; pad 0, eos 1, unk 2; 384 ids in all."""
    return ByT5Tokenizer()


def build_tiny(spec: TinySpec) -> tuple[GPT2LMHeadModel, ByT5Tokenizer]:
    """A freshly initialised GPT-2 over bytes (vocab 384 = len(tokenizer) rounded up to 64)."""
    tokenizer = byte_tokenizer()
    vocab = (len(tokenizer) + 63) // 64 * 64
    config = GPT2Config(
        vocab_size=vocab,
        n_positions=spec.n_positions,
        n_embd=spec.n_embd,
        n_layer=spec.n_layer,
        n_head=spec.n_head,
        attn_pdrop=spec.dropout,
        embd_pdrop=spec.dropout,
        resid_pdrop=spec.dropout,
        bos_token_id=EOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
    )
    torch.manual_seed(spec.seed)
    model = GPT2LMHeadModel(config)
    return model, tokenizer


def save_tiny(spec: TinySpec, path: Path) -> Path:
    """Build and `save_pretrained` a tiny model + tokenizer into `path`; returns `path`."""
    model, tokenizer = build_tiny(spec)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
