"""The feedback side of a training run, behind the few calls the Trainer makes.

- `sources`: the judge, reward-model and style reward sources named in `reward.weights`;
- `finalize(...)`: once a batch is scored, add the `human` column (early ratings, after the
  optional `reward.human.hold_s` window), scan for tripwires, re-mix with the live weights and
  apply the penalty rules people confirmed;
- `after_step(samples)`: ratings of these samples now arrive late and become pairs, which refresh
  the reward model and feed online DPO;
- `add_ratings`, `metrics`, `state_dict` / `load_state_dict`, `close`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from rlaif_tui.api.models import RatingIn
from rlaif_tui.config.feedback import TripwireConfig
from rlaif_tui.data import Problem
from rlaif_tui.feedback.human import HumanFeedback
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.penalties import PenaltyRules
from rlaif_tui.feedback.teacher_link import TeacherLink
from rlaif_tui.feedback.tripwires import SUSPICIOUS, scan
from rlaif_tui.scoring.mix import mix, source_means
from rlaif_tui.scoring.pending import Scored
from rlaif_tui.scoring.sources import RewardSource

Log = Callable[[str, str], None]
PAIR_POOL = 4096


class ScoringStage:
    def __init__(
        self,
        tripwires: TripwireConfig,
        human: HumanFeedback,
        sources: Sequence[RewardSource] = (),
        log: Log | None = None,
    ) -> None:
        self.tripwires = tripwires
        self.human = human
        self.sources = list(sources)
        self.pairs: deque[Pair] = deque(maxlen=PAIR_POOL)
        """Recent preference pairs (human, repair, teacher) for online DPO."""
        self._log = log
        self._counts: dict[str, float] = {}
        self.teacher: TeacherLink | None = None

    @classmethod
    def from_config(
        cls, cfg: Any, sources: Sequence[RewardSource] = (), log: Log | None = None
    ) -> ScoringStage:
        """The stage of a run scored by `sources` (`scoring.sources.build.build_sources`)."""
        penalties = PenaltyRules(cfg.reward.tripwires.penalty_reward)
        human = HumanFeedback(cfg.reward.human, penalties)
        return cls(cfg.reward.tripwires, human, sources, log)

    def attach_teacher(
        self, cfg: Any, run_jobs: Callable[[list[dict[str, Any]]], Sequence[Any]], out: Any
    ) -> None:
        """Ask the teacher (the judge's API) about failing problems; `run_jobs` is the sandbox."""
        if cfg.teacher.enabled:
            self.teacher = TeacherLink(cfg, run_jobs, out, self._log)

    @property
    def penalties(self) -> PenaltyRules:
        return self.human.penalties

    @property
    def source_names(self) -> set[str]:
        return {s.name for s in self.sources} | {"human"}

    # ----- per step -------------------------------------------------------------------------

    def finalize(
        self,
        problems: Sequence[Problem],
        group_size: int,
        programs: Sequence[str],
        scored: Scored,
        weights: Mapping[str, float],
        records: Callable[[Scored], list[dict[str, Any]]],
        publish: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> Scored:
        """The batch's final rewards: human column, tripwires, re-mix, penalties.

        `records(scored)` builds the batch's sample records (`scoring.records`, advantage 0
        before the update): they open the batch for early ratings and, with
        `reward.human.hold_s > 0`, are published so people can rate them before the update.
        """
        n = len(programs)
        per_source = {k: list(v) for k, v in scored.per_source.items()}
        flags = [list(f) for f in scored.flags]
        if self.tripwires.enabled:
            for i in range(n):
                problem = problems[i // group_size]
                found = scan(programs[i], problem, scored.outcomes[i])
                flags[i] += [f for f in found if f not in flags[i]]
        provisional = records(replace(scored, per_source=per_source, flags=flags))
        ids = [str(r["id"]) for r in provisional]
        self.human.open_batch(provisional)
        cfg = self.human.cfg
        if "human" in weights:
            if (cfg.hold_s > 0 or cfg.rater_hold_s > 0) and publish is not None:
                publish(provisional)  # people can rate these before the update
                self.human.hold()
            per_source["human"] = [self.human.value(i) for i in ids]
        active = {k: w for k, w in weights.items() if k in per_source}
        rewards, mix_flags = mix(per_source, active)
        penalised = 0
        for i in range(n):
            flags[i] = [f for f in flags[i] if f != "no_reward"] + mix_flags[i]
            rewards[i], notes = self.penalties.apply(rewards[i], flags[i])
            if notes:
                penalised += 1
                flags[i] += notes
        metrics = dict(scored.metrics)
        metrics.update(source_means(per_source))
        metrics["tripwires/flagged"] = sum(any(f in SUSPICIOUS for f in fl) for fl in flags) / max(
            1, n
        )
        metrics["tripwires/penalised"] = float(penalised)
        return Scored(rewards, per_source, scored.outcomes, flags, scored.wait_s, metrics)

    def after_step(self, samples: Sequence[Mapping[str, Any]], step: int) -> list[Pair]:
        """Close the batch for early ratings; new pairs go to the pool and the reward model."""
        self.human.close_batch(samples, step)
        pairs = self.human.drain_pairs()
        if self.teacher is not None:
            pairs += self.teacher.after_step(samples)
        return self.add_pairs(pairs)

    def add_pairs(self, pairs: Sequence[Pair]) -> list[Pair]:
        if not pairs:
            return []
        self.pairs.extend(pairs)
        for source in self.sources:
            if source.refresh(pairs) and self._log is not None:
                self._log("info", f"{source.name}: refit after {len(pairs)} new pairs")
        return list(pairs)

    def note(self, metrics: Mapping[str, float]) -> None:
        """Counts to report with this step's metrics (e.g. `repair/groups`)."""
        for key, value in metrics.items():
            self._counts[key] = self._counts.get(key, 0.0) + float(value)

    def add_ratings(self, ratings: Sequence[RatingIn]) -> list[str]:
        before = set(self.penalties.rules)
        arrivals = self.human.add(ratings)
        new_rules = sorted(set(self.penalties.rules) - before)
        if new_rules and self._log is not None:
            names = ", ".join(new_rules)
            self._log("warning", f"confirmed reward hacking: penalising {names} from now on")
        # a late score may complete a pair at once
        self.add_pairs(self.human.drain_pairs())
        return list(arrivals)

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for source in self.sources:
            out.update(source.metrics())
        out.update(self.human.metrics())
        if self.teacher is not None:
            out.update(self.teacher.metrics())
        out["pairs/pool"] = float(len(self.pairs))
        out.update(self._counts)
        self._counts.clear()
        return out

    def close(self) -> None:
        if self.teacher is not None:
            self.teacher.close()

    def state_dict(self) -> dict[str, Any]:
        return {"human": self.human.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.human.load_state_dict(state.get("human", {}))
