"""Real architectures, not only the quickstart GPT-2: tiny randomly initialised Qwen2 (grouped
query attention, rotary positions, a ChatML template) and Llama (one KV head) models, saved to
a directory with a small byte-level BPE tokenizer trained here. Nothing is downloaded.

Each trains a GRPO step (full weights and LoRA), matches an unpadded forward through the
shared-prefix path, resumes, and exports a directory plain transformers loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from train_helpers import PROBLEMS, LetterShare, tiny_config
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LlamaConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
)

from rlaif_tui.data import load_problems
from rlaif_tui.export.model import export_model
from rlaif_tui.models.prefix import completion_forward, encode_prefix
from rlaif_tui.train.trainer import Trainer

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def small_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE (vocab 384) trained on the quickstart prompts, with ChatML tokens."""
    texts = [p.prompt + (p.reference or "") for p in load_problems(PROBLEMS)[:200]]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=384,
            special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tok.chat_template = CHATML
    return tok


def build(arch: str, where: Path) -> Path:
    tok = small_tokenizer()
    common: dict[str, Any] = {
        "vocab_size": len(tok),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "max_position_embeddings": 512,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
    }
    if arch == "qwen2":  # grouped-query attention: 4 query heads share 2 KV heads
        config: Any = Qwen2Config(
            num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True, **common
        )
    else:  # one KV head for both query heads
        config = LlamaConfig(num_attention_heads=2, num_key_value_heads=1, **common)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    path = where / arch
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module", params=["qwen2", "llama"])
def model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, tmp_path_factory.mktemp("arch"))


def config(model_dir: Path, *, lora: bool, steps: int = 1) -> Any:
    return tiny_config(
        run={"steps": steps, "checkpoint_every": 1, "tensorboard": False, "seed": 0},
        model={
            "source": "hf",
            "name": str(model_dir),
            "device": "cpu",
            "lora": {
                "enabled": lora,
                "r": 4,
                "alpha": 8.0,
                "dropout": 0.0,
                "target_modules": ["q_proj", "v_proj"],
            },
        },
        data={"problems": str(PROBLEMS), "limit": 6},
        rollout={"prompts_per_step": 2, "group_size": 3, "max_new_tokens": 6, "stop": []},
    )


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_grpo_step_moves_trainable_weights_resumes_and_exports(
    model_dir: Path, lora: bool, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    trainer = Trainer.from_config(config(model_dir, lora=lora), run, sources=[LetterShare()])
    assert trainer.policy.use_chat_template  # the ChatML template is applied
    before = {
        n: p.detach().clone() for n, p in trainer.policy.model.named_parameters() if p.requires_grad
    }
    assert before
    assert all(("lora_" in n) == lora for n in before)
    trainer.step()
    trainer.close()
    moved = [
        n
        for n, p in trainer.policy.model.named_parameters()
        if n in before and not torch.equal(before[n], p.detach())
    ]
    assert moved, "no trainable parameter moved"

    resumed = Trainer.from_config(
        config(model_dir, lora=lora, steps=2), run, resume=True, sources=[LetterShare()]
    )
    assert resumed.step_count == 1
    resumed.step()
    resumed.close()
    assert resumed.step_count == 2
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]

    out = tmp_path / "exported"
    done = export_model(run, out, merge_lora=lora)
    assert done.kind == ("merged" if lora else "model")
    plain = AutoModelForCausalLM.from_pretrained(out).eval()
    assert not any("lora_" in n for n, _ in plain.named_parameters())
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.chat_template == CHATML
    gen = GenerationConfig.from_pretrained(out)
    assert gen.max_new_tokens == 6
    assert gen.eos_token_id == tok.eos_token_id
    ids = torch.tensor([tok("def f(x):\n    return", add_special_tokens=False).input_ids])
    policy = resumed.policy.model
    policy.eval()
    with torch.no_grad():
        expected = policy(input_ids=ids).logits
        got = plain(input_ids=ids).logits
    assert torch.allclose(expected, got, atol=1e-5)
    weights = {n: p for n, p in plain.named_parameters()}
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    changed = [
        n for n, p in base.named_parameters() if n in weights and not torch.equal(p, weights[n])
    ]
    assert changed, "the export holds the untrained base"


def test_shared_prefix_forward_equals_unpadded_forwards(model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    problems = load_problems(PROBLEMS)[:3]
    prompts = [
        tok.apply_chat_template(
            [{"role": "user", "content": p.prompt}], add_generation_prompt=True, tokenize=True
        )
        for p in problems
    ]
    prompts = [list(p["input_ids"]) if not isinstance(p, list) else p for p in prompts]
    assert len({len(p) for p in prompts}) > 1  # different lengths: padding is exercised
    group = 2
    comp = torch.randint(
        3, len(tok), (len(prompts) * group, 5), generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        shared, _ = completion_forward(model, encode_prefix(model, prompts), group, comp)
        for row in range(comp.shape[0]):
            alone = torch.tensor([prompts[row // group] + comp[row].tolist()])
            logits = model(input_ids=alone).logits[0]  # no padding, no mask, batch of one
            width = len(prompts[row // group])
            expected = logits[width - 1 : width - 1 + comp.shape[1]]
            assert torch.allclose(shared[row], expected, atol=1e-5), row
