"""The training config: what `rlaif train --config FILE` and `rlaif daemon` validate.

Sections mirror the phases of a step (rollout -> reward -> advantages -> loss -> optimizer).
Every field is documented here; `configs/*.yaml` show them in use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rlaif_tui.config.feedback import (
    DPOConfig,
    HumanConfig,
    JudgeConfig,
    RepairConfig,
    RewardModelConfig,
    StyleConfig,
    TeacherConfig,
    TripwireConfig,
)
from rlaif_tui.config.loader import ConfigPath
from rlaif_tui.config.model import ModelConfig

REWARD_SOURCES = ("execution", "syntax", "judge", "rm", "style", "human")
"""Reward sources `reward.weights` may name."""

DEFAULT_STOPS = ["\ndef ", "\nclass ", "\nif __name__", "\n```", "\nprint(", "\n#"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class RunConfig(_Section):
    name: str = "run"
    """Run name; the run directory defaults to `runs/<name>`."""
    seed: int = 0
    """Seeds data order, sampling and initialisation (python, numpy, torch)."""
    steps: int = Field(100, ge=1)
    """Total optimizer steps; the learning-rate schedule spans them."""
    checkpoint_every: int = Field(50, ge=0)
    """Save a checkpoint every N steps (0: only at the end)."""
    keep_checkpoints: int = Field(3, ge=1)
    """How many recent checkpoints to keep on disk."""
    samples_per_step: int | None = Field(None, ge=0)
    """Completions written to samples.jsonl per step (None: all)."""
    tensorboard: bool = True
    """Write TensorBoard events to `tb/` in the run directory (false drops `tensorboard` from
    `logging.report_to`)."""
    save_final: bool = True
    """Save a checkpoint after the last step (the benchmark turns this off)."""
    control: bool = False
    """Also step a matched control in `RUN/control/`: the same run with `optim.lr = 0`
    (same warm start, seeds and prompts), so `rlaif report` can pair the two per step.
    Doubles the step time."""


Tracker = Literal["tensorboard", "wandb", "trackio", "mlflow"]


def _tensorboard_only() -> list[Tracker]:
    return ["tensorboard"]


class LoggingConfig(_Section):
    report_to: list[Tracker] = Field(default_factory=_tensorboard_only)
    """Where metrics, the run's hparams and a per-step samples table go besides
    `metrics.jsonl` (always written): `tensorboard` (`tb/`), `wandb`, `trackio`, `mlflow`;
    each but TensorBoard is an extra (`pip install 'rlaif-tui[wandb]'`). wandb takes its mode
    from `WANDB_MODE`, MLflow its store from `MLFLOW_TRACKING_URI` (default `<run>/mlruns`)."""


class DataConfig(_Section):
    problems: ConfigPath = Path("../data/quickstart/problems.jsonl")
    """Problems JSONL (docs/architecture.md schema); relative to this config file."""
    split: Literal["train", "heldout"] | None = "train"
    """Which split to train on (None: every problem)."""
    heldout_split: Literal["train", "heldout"] | None = "heldout"
    """Split the evaluation inside training (`eval`) samples; None: every problem."""
    limit: int | None = Field(None, ge=1)
    """Use only the first N problems (handy for smoke runs)."""
    order: Literal["shuffle", "sequential"] = "shuffle"
    """`shuffle`: a seeded permutation per epoch; `sequential`: file order (benchmarks)."""
    too_long: Literal["skip", "error"] = "skip"
    """A problem whose prompt does not fit the model's context: `skip` it (each is listed by id
    with its length when the run starts) or refuse to start (`error`)."""
    append_eos: bool = False
    """Append the tokenizer's eos to every prompt (what TRL's tokenisation of ByT5 does)."""
    show_public_tests: bool = False
    """Append the problem's public tests to the prompt as doctest-style examples. Hidden tests
    never appear in a prompt."""


class RolloutConfig(_Section):
    prompts_per_step: int = Field(8, ge=1)
    """Distinct problems per optimizer step."""
    group_size: int = Field(8, ge=2)
    """Completions per prompt; the advantage baseline is computed within each group."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature (also divides the logits in the loss, as TRL does)."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling mass (1.0: off)."""
    max_new_tokens: int = Field(96, ge=1)
    """Longest completion in tokens."""
    stop: list[str] = Field(default_factory=lambda: list(DEFAULT_STOPS))
    """A completion ends at the first of these strings (or at eos)."""
    share_prefix: bool = True
    """Encode each prompt once and share its KV cache across its group (exact; faster)."""
    chunk_groups: int = Field(0, ge=0)
    """Groups sampled per chunk; each chunk is sent to the reward sources as soon as it is
    sampled, so scoring overlaps sampling of the next (0: one chunk; scoring then overlaps
    the reference and policy forwards only)."""


class GRPOConfig(_Section):
    loss_type: str = "dapo"
    """Aggregation: `dapo` (token-mean over the batch), `grpo` (sequence-mean, Shao et al. 2024),
    `dr_grpo` (sum / (batch x max_new_tokens), Liu et al. 2025)."""

    @field_validator("loss_type")
    @classmethod
    def _known_loss(cls, value: str) -> str:
        from rlaif_tui.algos import GRPO_LOSS_TYPES

        if value not in GRPO_LOSS_TYPES:
            raise ValueError(f"loss_type {value!r} is not one of {', '.join(GRPO_LOSS_TYPES)}")
        return value

    epsilon_low: float = Field(0.2, ge=0)
    """Lower clip of the importance ratio (1 - eps_low)."""
    epsilon_high: float = Field(0.2, ge=0)
    """Upper clip (1 + eps_high); DAPO's clip-higher uses 0.28."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Divide advantages by the group's std (`group`), the batch's std, or not at all
    (`none`, as Dr.GRPO recommends)."""
    inner_epochs: int = Field(1, ge=1)
    """Passes over each rollout batch (>1 uses the clipped ratio against old log-probs)."""
    minibatches: int = Field(1, ge=1)
    """Optimizer steps per epoch (the batch's groups are split evenly)."""
    dynamic_sampling: bool = False
    """DAPO dynamic sampling: replace zero-variance groups by freshly sampled ones."""
    max_resample_rounds: int = Field(2, ge=0)
    """Extra generation rounds dynamic sampling may spend per step."""


class PPOConfig(_Section):
    vf_coef: float = Field(0.1, ge=0)
    """Weight of the value loss."""
    cliprange_value: float = Field(0.2, gt=0)
    """Value clipping around the old value estimate."""
    gamma: float = Field(1.0, ge=0, le=1)
    """Discount for GAE."""
    lam: float = Field(0.95, ge=0, le=1)
    """GAE lambda."""
    entropy_coef: float = Field(0.0, ge=0)
    """Entropy bonus weight."""
    whiten_advantages: bool = True
    """Masked whitening of the advantages over the batch."""


class KLConfig(_Section):
    estimator: Literal["k1", "k3"] = "k3"
    """Per-token KL estimator (Schulman 2020): k1 = log p - log q, k3 = exp(q-p) - (q-p) - 1."""
    coef: float = Field(0.04, ge=0)
    """Initial KL weight beta (0.0 skips the reference forward entirely)."""
    adaptive: bool = False
    """Adapt beta toward `target` (Ziegler et al. 2019, eq. 2)."""
    target: float = Field(0.1, gt=0)
    """Target KL per sequence for the adaptive controller."""
    horizon: int = Field(10000, ge=1)
    """Controller horizon in samples."""
    in_reward: bool = False
    """Put the KL penalty in the reward (PPO-style) instead of the loss."""


class OptimConfig(_Section):
    lr: float = Field(1e-5, ge=0)
    """Peak learning rate (0 gives the no-update control run)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """AdamW betas."""
    eps: float = 1e-8
    """AdamW epsilon."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW weight decay."""
    embedding_lr_scale: float = Field(1.0, ge=0)
    """Learning rate of the token and position embeddings relative to `lr` (0 freezes them;
    `models.param_groups`)."""
    sharpness_lr: float = Field(0.0, ge=0)
    """Learning rate of one learned logit scale (`models.sharpness`; 0 leaves it out). The RL
    loss then also decides how sharp the policy samples; off in an `lr: 0` run."""
    schedule: Literal["constant", "linear", "cosine"] = "linear"
    """Learning-rate decay to 0 over `run.steps` after warm-up."""
    warmup_steps: int = Field(0, ge=0)
    """Linear warm-up steps."""
    max_grad_norm: float = Field(1.0, gt=0)
    """Gradient-norm clipping."""


class ExecutionRewardConfig(_Section):
    mode: Literal["binary", "fraction"] = "binary"
    """`binary`: 1 if every test passes; `fraction`: tests_passed / tests_total."""
    compile_error: float = 0.0
    """Reward for code that does not run at all (CodeRL uses -1.0)."""
    runtime_error: float = 0.0
    """Reward for a crash or timeout (CodeRL uses -0.6)."""
    timeout_s: float = Field(3.0, gt=0)
    """Wall-clock limit per program."""
    memory_mb: int = Field(256, ge=16)
    """Memory limit per program."""
    workers: int = Field(2, ge=1)
    """Sandbox lanes running programs in parallel."""
    isolation_floor: Literal["full", "partial", "minimal", "none"] = "full"
    """Refuse to start unless the sandbox gives at least this isolation (`rlaif sandbox
    doctor` shows what this machine gives)."""
    backend: Literal["local", "ray"] = "local"
    """Where programs run: sandbox lanes on this machine (`local`), or Ray actors on a cluster,
    each running the same sandbox with `workers` lanes (`ray`; `pip install rlaif-tui[ray]`)."""
    ray_address: str | None = None
    """The Ray cluster to join (`auto`, `ray://head:10001`); None starts Ray on this machine."""
    ray_actors: int = Field(2, ge=1)
    """Ray actors (sandbox executors) the batches are spread over."""
    on_sandbox_error: Literal["drop", "fail"] = "drop"
    """A `sandbox_error` / `invalid` outcome says nothing about the program. `drop`: the
    sample leaves its group's advantage computation (advantage 0, counted in
    `sandbox/dropped`) unless a confirmed penalty applies to it; `fail`: it is scored as a
    failed program (0.0). Neither lets the other sources' rewards stand in for it."""


class RewardConfig(_Section):
    weights: dict[str, float] = Field(default_factory=lambda: {"execution": 1.0})
    """Weight of each reward source; a source missing for a sample drops out and the rest are
    renormalised."""

    @field_validator("weights")
    @classmethod
    def _known_sources(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(REWARD_SOURCES))
        if unknown:
            raise ValueError(f"unknown sources {unknown}; valid: {', '.join(REWARD_SOURCES)}")
        return value

    execution: ExecutionRewardConfig = Field(default_factory=ExecutionRewardConfig)
    judge: JudgeConfig | None = None
    """The AI judge (RLAIF): required when `weights` names `judge` (also the teacher's API)."""
    rm: RewardModelConfig = Field(default_factory=RewardModelConfig)
    """The learned Bradley-Terry reward model (source `rm`)."""
    style: StyleConfig = Field(default_factory=StyleConfig)
    """Syntax, lint findings and length (source `style`)."""
    human: HumanConfig = Field(default_factory=HumanConfig)
    """1-5 ratings arriving before their group's update (source `human`)."""
    tripwires: TripwireConfig = Field(default_factory=TripwireConfig)
    """Reward-hacking flags and the penalty for the ones a person confirms."""

    @model_validator(mode="after")
    def _judge_configured(self) -> RewardConfig:
        if "judge" in self.weights and self.judge is None:
            raise ValueError(
                "weights name `judge` but there is no reward.judge section; add one, e.g. "
                "judge: {provider: openai, model: gpt-4o-mini}"
            )
        return self


class CurriculumConfig(_Section):
    enabled: bool = False
    """Sample problems by their running pass rate: always- or never-solved ones less often."""
    ema: float = Field(0.7, ge=0, lt=1)
    """Smoothing of each problem's running pass rate."""
    floor: float = Field(0.1, gt=0, le=1)
    """Weight of a problem whose groups carry no signal (pass rate 0 or 1), relative to 1."""


class EvalConfig(_Section):
    every: int = Field(0, ge=0)
    """Evaluate the policy on `data.heldout_split` every N steps and after the last step,
    logging `eval/pass@k` for each k in `ks` (0: never)."""
    samples: int = Field(4, ge=1)
    """Completions per held-out problem (the n of the unbiased pass@k estimator)."""
    ks: list[int] = Field(default_factory=lambda: [1])
    """pass@k values to log; each needs k <= samples."""
    limit: int | None = Field(32, ge=1)
    """Evaluate on the first N held-out problems (None: all of them)."""
    temperature: float | None = Field(None, gt=0)
    """Sampling temperature (None: `rollout.temperature`)."""
    max_new_tokens: int | None = Field(None, ge=1)
    """Longest completion (None: `rollout.max_new_tokens`)."""
    seed: int = 1234
    """Sampling seed; every evaluation uses it, so steps differ only by the weights."""

    @model_validator(mode="after")
    def _ks_fit(self) -> EvalConfig:
        bad = [k for k in self.ks if k < 1 or k > self.samples]
        if bad:
            raise ValueError(
                f"ks {bad} need 1 <= k <= samples={self.samples}; raise eval.samples or drop them"
            )
        return self


class TrainConfig(_Section):
    run: RunConfig = Field(default_factory=RunConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    algorithm: str = "grpo"
    """`grpo`, `rloo` or `ppo`."""

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        from rlaif_tui.algos import ALGORITHMS

        if value not in ALGORITHMS:
            raise ValueError(f"algorithm {value!r} is not one of {', '.join(ALGORITHMS)}")
        return value

    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    grpo: GRPOConfig = Field(default_factory=GRPOConfig)
    ppo: PPOConfig = Field(default_factory=PPOConfig)
    kl: KLConfig = Field(default_factory=KLConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    curriculum: CurriculumConfig = Field(default_factory=CurriculumConfig)
    dpo: DPOConfig = Field(default_factory=DPOConfig)
    """`algorithm: dpo`: offline from `dpo.pairs`, else online from each step's groups."""
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    repair: RepairConfig = Field(default_factory=RepairConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    """Held-out pass@k during training (`eval/pass@1`, ... in the metrics)."""
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    """Experiment trackers fed beside `metrics.jsonl`."""

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        from rlaif_tui.algos import ALGORITHMS, GRPO_LOSS_TYPES

        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        if self.grpo.loss_type not in GRPO_LOSS_TYPES:
            raise ValueError(
                f"grpo.loss_type {self.grpo.loss_type!r} is not one of {', '.join(GRPO_LOSS_TYPES)}"
            )
        if self.grpo.minibatches > self.rollout.prompts_per_step:
            raise ValueError(
                f"grpo.minibatches={self.grpo.minibatches} exceeds rollout.prompts_per_step="
                f"{self.rollout.prompts_per_step}; a minibatch holds whole groups, so lower it"
            )
        if self.model.source == "tiny" and self.model.lora.enabled:
            raise ValueError(
                "model.lora.enabled with model.source=tiny: LoRA is for hub models; "
                "set model.lora.enabled=false or use source: hf"
            )
        if self.model.warm_start.steps and self.model.source != "tiny":
            raise ValueError("model.warm_start is for source: tiny; set model.warm_start.steps=0")
        if not any(w > 0 for w in self.reward.weights.values()):
            raise ValueError(
                "reward.weights: at least one source needs a positive weight, e.g. {execution: 1.0}"
            )
        if self.algorithm == "dpo":
            self.dpo.check()
        if self.teacher.enabled and self.reward.judge is None:
            raise ValueError(
                "teacher.enabled needs an API to ask: add a reward.judge section (the teacher "
                "uses the same client, with `judge` weight 0 if it should not grade)"
            )
        if self.kl.adaptive and self.kl.coef == 0:
            raise ValueError("kl.adaptive needs a starting kl.coef > 0 (e.g. 0.05)")
        return self
