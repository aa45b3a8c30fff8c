"""The matched control: the same run with `optim.lr = 0`, stepped in lockstep in RUN/control/.

A training curve alone cannot say what the updates bought: the pass rate of a run moves with
its prompt mix and its sampling noise. The control shares everything but the learning rate:
the warm start, the seeds (so step 1's completions are identical), and the prompt schedule
(it replays the prompts the run drew, so a curriculum or dynamic sampling that reacts to the
run's rewards does not give the two different prompts). Their per-step difference in
`pass/rate` is then paired, and its mean over steps has a confidence interval
(`evaluation.paired`).

`run.control: true` (or `rlaif train --control`) makes the Trainer step the twin after each of
its own steps; it doubles the step time. The twin checkpoints and resumes with its leader.
"""

from __future__ import annotations

from typing import Any

from rlaif_tui.config.train import TrainConfig

CONTROL_DIR = "control"


def control_config(cfg: TrainConfig) -> TrainConfig:
    """`cfg` for the twin: learning rate 0, no twin of its own, no held-out evaluation
    (which costs time and reads the same weights as the warm start at every step)."""
    return cfg.model_copy(
        update={
            # The leader saves the twin whenever it saves itself (same steps, one resume point).
            "run": cfg.run.model_copy(
                update={
                    "control": False,
                    "name": f"{cfg.run.name}-control",
                    "checkpoint_every": 0,
                    "save_final": False,
                }
            ),
            "optim": cfg.optim.model_copy(update={"lr": 0.0, "warmup_steps": 0}),
            "eval": cfg.eval.model_copy(update={"every": 0}),
        },
        deep=True,
    )


class RecordingSampler:
    """Wraps the leader's problem sampler and keeps the indices it hands out per step key."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.drawn: dict[int, list[int]] = {}

    def indices(self, step: int) -> list[int]:
        out = list(self.inner.indices(step))
        self.drawn[step] = out
        return out

    def observe(self, indices: Any, rates: Any) -> None:
        self.inner.observe(indices, rates)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = self.inner.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)


class ReplaySampler:
    """The twin's sampler: the leader's draw for the same step key (the leader steps first),
    or its own seeded draw when the leader has none (e.g. right after a resume)."""

    def __init__(self, leader: RecordingSampler, own: Any) -> None:
        self.leader = leader
        self.own = own

    def indices(self, step: int) -> list[int]:
        drawn = self.leader.drawn.pop(step, None)
        return drawn if drawn is not None else list(self.own.indices(step))

    def observe(self, indices: Any, rates: Any) -> None:
        self.own.observe(indices, rates)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = self.own.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.own.load_state_dict(state)


def pair_samplers(leader: Any, twin: Any) -> None:
    """Make `twin` train on the prompts `leader` draws (both are Trainers)."""
    recording = RecordingSampler(leader.sampler)
    leader.sampler = recording
    twin.sampler = ReplaySampler(recording, twin.sampler)


def attach_control(leader: Any, resume: bool) -> None:
    """Build the twin of Trainer `leader` in `leader.run.path / control`, sharing its reward
    sources (one sandbox for both) and its prompt schedule."""
    from rlaif_tui.train.trainer import Trainer

    if leader.dist.world_size > 1:
        raise ValueError(
            "run.control: the matched control runs in one process; under torchrun start the "
            "control as its own run (--set optim.lr=0 --run-dir RUN/control)"
        )
    twin = Trainer.from_config(
        control_config(leader.cfg),
        leader.run.path / CONTROL_DIR,
        resume=resume and (leader.run.path / CONTROL_DIR).exists(),
        sources=leader.sources,
    )
    twin.owns_sources = False
    pair_samplers(leader, twin)
    leader.twin = twin


CONTROL_KEYS = ("pass/rate", "reward/mean")


def step_control(leader: Any) -> dict[str, float]:
    """Step the twin once (after the leader's step) and return its headline metrics under
    `control/...`, plus the paired difference `control/pass_diff` of this step."""
    twin = leader.twin
    if twin is None or twin.done:
        return {}
    result = twin.step()
    leader.sampler.drawn.clear()
    return {f"control/{k}": result.metrics[k] for k in CONTROL_KEYS if k in result.metrics}
