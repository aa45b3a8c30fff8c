"""What `rlaif eval` does, as a function returning an exit code (the CLI only parses)."""

from __future__ import annotations

import dataclasses
import json
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from rlaif_tui.data import Problem, ProblemError, load_problems
from rlaif_tui.evaluation.run import EvalReport, evaluate_completions, replay_programs
from rlaif_tui.progress import progress
from rlaif_tui.reward.runner import Runner, executor_runner

if TYPE_CHECKING:
    from rlaif_tui.evaluation.model_ref import ModelRef
    from rlaif_tui.evaluation.sampling import Sampling


@dataclass
class EvalOptions:
    problems: Path | None = None
    model: str | None = None
    samples: list[Path] = field(default_factory=list)
    compare: str | None = None
    """A second model, or a second samples file (`.jsonl`, `.jsonl.gz`)."""
    n: int = 20
    ks: list[int] = field(default_factory=lambda: [1, 10, 100])
    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int | None = None
    split: str | None = None
    limit: int | None = None
    json_out: Path | None = None
    select: list[int] = field(default_factory=list)
    """n values for AlphaCode-style n@k (empty: off)."""
    text_metrics: bool = False
    workers: int = 2
    timeout_s: float = 5.0
    memory_mb: int = 256
    seed: int = 1234
    device: str | None = None
    per_problem: bool = True


class EvalError(Exception):
    """Bad input to `rlaif eval`: the message says what and where."""


def sandbox_runner(opts: EvalOptions) -> AbstractContextManager[Runner]:
    return executor_runner(opts.workers, opts.timeout_s, opts.memory_mb)


def select_problems(opts: EvalOptions) -> list[Problem]:
    if opts.problems is None:
        raise EvalError("--problems FILE is required (except with --interactive)")
    try:
        problems = load_problems(opts.problems, split=opts.split)
    except ProblemError as exc:
        raise EvalError(str(exc)) from None
    if opts.limit:
        problems = problems[: opts.limit]
    if not problems:
        where = f" in split {opts.split!r}" if opts.split else ""
        raise EvalError(f"{opts.problems}: no problems{where}")
    return problems


def _is_samples_file(spec: str) -> bool:
    path = Path(spec)
    return path.is_file() and (path.suffix == ".jsonl" or path.name.endswith(".jsonl.gz"))


def _replay(
    path: Path, problems: list[Problem], opts: EvalOptions, run: Runner, console: Console
) -> EvalReport:
    from rlaif_tui.evaluation.replay import SamplesError, match_samples, read_samples

    try:
        kept, completions, missing = match_samples(problems, read_samples(path), path)
    except SamplesError as exc:
        raise EvalError(str(exc)) from None
    if not kept:
        raise EvalError(f"{path}: no sample names a problem of {opts.problems}")
    if missing:
        console.print(
            f"[yellow]{len(missing)} problem(s) have no samples in {escape(str(path))}[/yellow]"
        )
    with progress(f"scoring {path.name}", None, unit="program") as bar:
        report = evaluate_completions(
            str(path),
            kept,
            completions,
            replay_programs(kept, completions),
            run,
            opts.ks,
            settings={"mode": "replay", "samples": str(path), "problems_file": str(opts.problems)},
            progress=lambda _what, done, total: bar.update(done, total),
        )
    report.missing = missing
    return report


def sampling_for(ref: ModelRef, opts: EvalOptions) -> Sampling:
    """Sampling settings: the command line's, else the run's (when the model came from a run)."""
    from rlaif_tui.config.train import DEFAULT_STOPS
    from rlaif_tui.evaluation.sampling import Sampling

    rollout = ref.train.rollout if ref.train else None
    data = ref.train.data if ref.train else None
    return Sampling(
        n=opts.n,
        temperature=opts.temperature or (rollout.temperature if rollout else 0.8),
        top_p=opts.top_p or (rollout.top_p if rollout else 1.0),
        max_new_tokens=opts.max_new_tokens or (rollout.max_new_tokens if rollout else 256),
        stop=tuple(rollout.stop if rollout else DEFAULT_STOPS),
        show_public_tests=data.show_public_tests if data else False,
        append_eos=data.append_eos if data else False,
        seed=opts.seed,
    )


def load_model(spec: str, opts: EvalOptions, console: Console) -> tuple[ModelRef, Any]:
    """Resolve and load `--model`; a model that cannot be loaded is an `EvalError`."""
    from rlaif_tui.evaluation.model_ref import load_ref, resolve_model

    try:
        ref = resolve_model(spec, device=opts.device)
        console.print(f"loading {escape(ref.label)}")
        return ref, load_ref(ref)
    except (OSError, ValueError) as exc:  # missing files, bad config (ConfigError), bad weights
        raise EvalError(f"cannot load model {spec}: {exc}") from None


def _sample(
    spec: str, problems: list[Problem], opts: EvalOptions, run: Runner, console: Console
) -> EvalReport:
    from rlaif_tui.evaluation.sampling import sample_policy
    from rlaif_tui.models.context import ContextError, context_length, fit_prompts
    from rlaif_tui.models.program import encode_prompt

    ref, policy = load_model(spec, opts, console)
    sampling = sampling_for(ref, opts)
    lengths = [
        len(
            encode_prompt(
                policy.tokenizer,
                p,
                chat=bool(policy.use_chat_template),
                show_public_tests=sampling.show_public_tests,
                append_eos=sampling.append_eos,
            )[1]
        )
        for p in problems
    ]
    try:
        fit = fit_prompts(
            problems,
            lengths,
            context=context_length(policy.model),
            max_new_tokens=sampling.max_new_tokens,
            warn=lambda text: console.print(
                f"[yellow]warning:[/yellow] {escape(text)}", soft_wrap=True
            ),
        )
    except ContextError as exc:
        raise EvalError(str(exc)) from None
    problems = fit.problems
    sampling = dataclasses.replace(sampling, max_new_tokens=fit.max_new_tokens)
    with progress(f"sampling {sampling.n} per problem", len(problems), unit="problem") as bar:
        samples = sample_policy(policy, problems, sampling, progress=lambda d, t: bar.update(d, t))
    settings = {
        "mode": "model",
        "model": ref.label,
        "problems_file": str(opts.problems),
        "n": sampling.n,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_new_tokens": sampling.max_new_tokens,
        "seed": sampling.seed,
        "chat_template": bool(policy.use_chat_template),
    }
    with progress("scoring in the sandbox", None, unit="program") as bar:
        return evaluate_completions(
            ref.label,
            problems,
            samples.completions,
            samples.programs,
            run,
            opts.ks,
            settings=settings,
            progress=lambda _what, done, total: bar.update(done, total),
        )


def _side(
    spec: str, problems: list[Problem], opts: EvalOptions, run: Runner, console: Console
) -> EvalReport:
    if _is_samples_file(spec):
        return _replay(Path(spec), problems, opts, run, console)
    return _sample(spec, problems, opts, run, console)


def _add_extras(report: EvalReport, opts: EvalOptions, run: Runner, console: Console) -> None:
    if opts.select:
        from rlaif_tui.evaluation.selection import select_report

        with console.status("n@k: public tests and behaviour clustering"):
            report.extras["selection"] = select_report(report, opts.select, opts.ks, run)
    if opts.text_metrics:
        from rlaif_tui.evaluation.text_metrics import text_metrics

        report.extras["text_metrics"] = text_metrics(report.problems, report.completions)


def run_eval(opts: EvalOptions, console: Console | None = None) -> int:
    """Evaluate, print, write `--json`; 0 on success, 2 on bad input."""
    given = console
    console = console or Console()
    try:
        if bool(opts.model) == bool(opts.samples):
            raise EvalError("give either --model or --samples (not both)")
        if len(opts.samples) > 2:
            raise EvalError("--samples takes one file, or two to compare")
        if any(k < 1 for k in opts.ks) or opts.n < 1:
            raise EvalError("-n and every -k must be >= 1")
        problems = select_problems(opts)
        spec_a = opts.model or str(opts.samples[0])
        spec_b = opts.compare or (str(opts.samples[1]) if len(opts.samples) == 2 else None)
        if spec_b and opts.compare and len(opts.samples) == 2:
            raise EvalError("--compare and a second --samples file both name a B side")
        with sandbox_runner(opts) as run:
            a = _side(spec_a, problems, opts, run, console)
            _add_extras(a, opts, run, console)
            b = None
            if spec_b:
                b = _side(spec_b, problems, opts, run, console)
                _add_extras(b, opts, run, console)
    except EvalError as exc:
        if given is not None:  # a caller's console (tests, the interactive mode)
            given.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        else:  # the CLI: one plain line on stderr, no markup to eat a `[...]`
            print(f"error: {exc}", file=sys.stderr)
        return 2
    from rlaif_tui.evaluation.table import print_report

    print_report(a, console, per_problem=opts.per_problem and b is None)
    payload: dict[str, Any] = a.to_dict()
    if b is not None:
        from rlaif_tui.evaluation.compare import compare_reports, print_comparison

        print_report(b, console, per_problem=False)
        comparison = compare_reports(a, b, opts.ks)
        print_comparison(comparison, console)
        payload = {"a": payload, "b": b.to_dict(), "comparison": comparison.to_dict()}
    if opts.json_out is not None:
        opts.json_out.parent.mkdir(parents=True, exist_ok=True)
        opts.json_out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        console.print(f"report written to {escape(str(opts.json_out))}", soft_wrap=True)
    sys.stdout.flush()
    return 0
