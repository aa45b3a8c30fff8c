"""A run's policy as a directory `AutoModelForCausalLM.from_pretrained` loads: weights, config,
tokenizer and a generation config with the run's sampling settings, for serving (vLLM, TGI)
or further training. A LoRA run exports its adapter (loadable with peft on the same base), or
with `merge_lora` the base with the adapter merged in: a plain model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlaif_tui.export.pairs import ExportError


@dataclass
class Exported:
    out: Path
    checkpoint: Path
    kind: str
    """`model` (full weights), `merged` (LoRA merged into the base) or `adapter` (LoRA only)."""


def pick_checkpoint(run: Path, step: int | None) -> Path:
    """The run's checkpoint of `step`, or its latest complete one."""
    from rlaif_tui.models.checkpoint import is_complete, latest_checkpoint, step_dir

    if not run.is_dir():
        raise ExportError(f"{run}: no such run directory")
    if not (run / "config.yaml").is_file():
        raise ExportError(f"{run}: not a run directory (no config.yaml)")
    root = run / "checkpoints"
    if step is None:
        latest = latest_checkpoint(root)
        if latest is None:
            raise ExportError(f"{root}: no complete checkpoint yet")
        return latest
    chosen = step_dir(root, step)
    if not is_complete(chosen):
        have = sorted(p.name for p in root.glob("step-*") if is_complete(p))
        raise ExportError(f"{chosen}: no such checkpoint; have: {', '.join(have) or 'none'}")
    return chosen


def generation_config(policy: Any, rollout: Any) -> Any:
    """The run's sampling settings as a `GenerationConfig` (what `generate` uses by default)."""
    from transformers import GenerationConfig

    tok = policy.tokenizer
    return GenerationConfig(  # type: ignore[no-untyped-call]
        do_sample=True,
        temperature=rollout.temperature,
        top_p=rollout.top_p,
        max_new_tokens=rollout.max_new_tokens,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=getattr(tok, "bos_token_id", None),
    )


def export_model(
    run: Path, out: Path, *, step: int | None = None, merge_lora: bool = False, force: bool = False
) -> Exported:
    """Write the policy of `run` (checkpoint `step`, default the latest) to `out`."""
    from rlaif_tui.evaluation.model_ref import load_ref, resolve_model

    if out.exists() and any(out.iterdir()) and not force:
        raise ExportError(f"{out}: exists and is not empty (give --force to replace it)")
    checkpoint = pick_checkpoint(run, step)
    ref = resolve_model(str(checkpoint), device="cpu")
    if ref.train is None:
        raise ExportError(f"{checkpoint}: its run's config.yaml is missing")
    policy = load_ref(ref)
    model = policy.model
    kind = "model"
    if policy.lora:
        if merge_lora:
            model = model.merge_and_unload()
            kind = "merged"
        else:
            kind = "adapter"
    elif merge_lora:
        raise ExportError(f"{run}: not a LoRA run (model.lora.enabled is false): drop --merge-lora")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        policy.tokenizer.save_pretrained(tmp)
        generation_config(policy, ref.train.rollout).save_pretrained(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Exported(out, checkpoint, kind)
