"""Where a rating lands, in one line for the rating view.

A 1–5 score of a sample whose batch is still held for ratings (`reward.human.hold_s`, longer
while someone rates with `rater_hold_s`; the sample's step is after the status's) becomes that
sample's `human` reward term before the update: the line shows the term, the reward and the
advantage the daemon reports afterwards.
A score arriving after the update, or an A/B preference, cannot change that update: it is
stored for preference pairs, which only online DPO and reward-model refits read; the line says
which of those this run does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rlaif_tui.api import Status
from rlaif_tui.tui.run_model import Sample


@dataclass
class Landing:
    rating_id: str
    sample_id: str
    score: int | None
    """None for an A/B preference."""
    step: int
    """The sample's step: its update is step `step`'s."""
    held: bool
    """The batch was still held for ratings when this rating was made."""
    before: Sample
    after: Sample | None = None

    def line(self, config: Mapping[str, Any] | None) -> str:
        what = f"{self.sample_id} rated {self.score}" if self.score else "A/B preference"
        if self.score is not None and self.after is not None:
            human = _human(self.after)
            if human is not None:
                return (
                    f"{what}: human {_fmt(_human(self.before))} → {_fmt(human)} · reward "
                    f"{_fmt(self.before.get('reward'))} → {_fmt(self.after.get('reward'))} · "
                    f"advantage {'–' if self.held else _signed(self.before.get('advantage'))} → "
                    f"{_signed(self.after.get('advantage'))} (step {self.step}'s update)"
                )
            return (
                f"{what}: arrived after step {self.step}'s update; {pairs_use(config)}"
                + rater_hint(config)
            )
        if self.score is not None and self.held:
            return f"{what}: sent while step {self.step} is held; waiting for its update…"
        if self.score is not None:
            return f"{what}: step {self.step} is already trained; {pairs_use(config)}" + rater_hint(
                config
            )
        return f"{what}: {pairs_use(config)}"


def pairs_use(config: Mapping[str, Any] | None) -> str:
    """What this run does with preference pairs, from its config (`GET /api/config`)."""
    if config is None:
        return "stored as a preference pair"
    reward = config.get("reward") or {}
    rm = reward.get("rm") or {}
    uses = []
    if config.get("algorithm") == "dpo":
        uses.append("trains online DPO")
    if "rm" in (reward.get("weights") or {}) and rm.get("refresh_every"):
        uses.append("refits the reward model")
    if uses:
        return "stored as a preference pair: " + " and ".join(uses)
    return "stored as a preference pair (this run's update does not read pairs)"


def human_weight(status: Status | None) -> float:
    return status.settings.reward_weights.get("human", 0.0) if status is not None else 0.0


def human_seconds(config: Mapping[str, Any] | None, key: str) -> float:
    """`reward.human.<key>` of the run's config (`hold_s`, `rater_hold_s`); 0 when absent."""
    reward = (config or {}).get("reward") or {}
    return float((reward.get("human") or {}).get(key, 0.0))


def rater_hint(config: Mapping[str, Any] | None) -> str:
    """What keeps the next scores landing in updates (`reward.human.rater_hold_s`)."""
    wait = human_seconds(config, "rater_hold_s")
    return f"; keep rating: the next batches wait up to {wait:g}s for a score" if wait > 0 else ""


def weight_line(status: Status | None, config: Mapping[str, Any] | None) -> str:
    """How ratings enter this run's reward, for the rating view's counters."""
    weight = human_weight(status)
    if weight <= 0:
        return "human weight 0: scores become preference pairs only"
    hold, rater = human_seconds(config, "hold_s"), human_seconds(config, "rater_hold_s")
    if hold <= 0 and rater <= 0:
        return f"human weight {weight:g}, no hold: scores arrive after updates"
    line = f"human weight {weight:g} · batches held {hold:g}s for ratings"
    if rater > 0:
        line += f", up to {rater:g}s while you rate"
    return line


def held(sample: Sample, status: Status | None) -> bool:
    """The sample's batch is published but not yet used for an update."""
    return status is not None and int(sample.get("step", 0)) > status.step


def _human(sample: Sample) -> float | None:
    value = (sample.get("rewards") or {}).get("human")
    return float(value) if isinstance(value, int | float) else None


def _fmt(value: Any) -> str:
    return f"{float(value):.2f}" if isinstance(value, int | float) else "–"


def _signed(value: Any) -> str:
    return f"{float(value):+.2f}" if isinstance(value, int | float) else "–"
