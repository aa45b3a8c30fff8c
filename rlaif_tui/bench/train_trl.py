"""TRL's GRPOTrainer on the pinned workload: the baseline of `rlaif bench train`.

`python -m rlaif_tui.bench.train_trl {installed,tuned} OUT.json` (needs the `bench` extra).
`installed` is TRL as it comes (gradient checkpointing on, GPT-2's dropout active, dynamic KV
cache); `tuned` is what a careful user sets (no checkpointing, dropout off, static cache) and is
the same computation as the workload and as ours.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rlaif_tui.bench import workload as wl


def run(preset: str) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(2)
    model_dir, _ = wl.pinned_model_dir()
    rows = wl.humaneval()
    data = Dataset.from_list(
        [
            {"prompt": r["prompt"], "test": r["test"], "entry_point": r["entry_point"], "number": i}
            for i, r in enumerate(rows)
        ]
    )
    pool = ThreadPoolExecutor(max_workers=2)
    seen: list[list[int]] = []
    reward_s: list[float] = []

    def reward(
        prompts: list[str],
        completions: list[str],
        test: list[str],
        entry_point: list[str],
        number: list[int],
        **_: Any,
    ) -> list[float]:
        t0 = time.perf_counter()
        seen.append(sorted(set(number)))
        programs = [
            wl.workload_program(p, c, t, e)
            for p, c, t, e in zip(prompts, completions, test, entry_point, strict=True)
        ]
        out = list(pool.map(wl.run_program, programs))
        reward_s.append(time.perf_counter() - t0)
        return out

    tuned = preset == "tuned"
    times: list[float] = []
    lock = threading.Lock()

    class Clock(TrainerCallback):
        start = 0.0

        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            with lock:
                times.append(time.perf_counter() - self.start)
                # one line per step on stderr: `rlaif bench train` streams it as progress
                print(
                    f"step {len(times)}/{len(wl.SCHEDULE)}: {times[-1]:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )

    with tempfile.TemporaryDirectory() as tmp:
        args = GRPOConfig(
            output_dir=tmp,
            per_device_train_batch_size=64,
            num_generations=wl.GROUP,
            max_completion_length=wl.MAX_NEW,
            temperature=1.0,
            beta=wl.BETA,
            learning_rate=wl.LR,
            lr_scheduler_type="linear",
            warmup_steps=0,
            max_grad_norm=1.0,
            loss_type="dapo",
            scale_rewards="group",
            num_iterations=1,
            bf16=False,
            use_cpu=True,
            max_steps=len(wl.SCHEDULE),
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            seed=42,
            gradient_checkpointing=not tuned,
            disable_dropout=tuned,
            cache_implementation="static" if tuned else None,
        )
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=reward,
            args=args,
            train_dataset=data,
            processing_class=tokenizer,
            callbacks=[Clock()],
        )
        trainer.train()
    pool.shutdown()
    return {
        "system": f"trl-{preset}",
        "steps": [{"step_s": t, "reward_s": r} for t, r in zip(times, reward_s, strict=False)],
        "schedule_matches": seen == wl.SCHEDULE,
        "schedule": seen,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(json.dumps(run(sys.argv[1])))
