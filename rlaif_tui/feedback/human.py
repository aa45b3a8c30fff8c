"""Human ratings into training: where a rating meets the sample it is about.

`Trainer.add_ratings` hands every rating here. What happens depends on when it arrives:

- **early** — the rated sample's group has been scored but not yet used for an update (the
  trainer holds the update for `reward.human.hold_s` seconds after publishing the batch): a
  1-5 score becomes the `human` reward source's value for that sample, (score - 1) / 4 in
  [0, 1], and so adjusts its group's rewards and advantages;
- **late** — the update already happened: a score joins the per-prompt ratings and becomes
  preference pairs against differently rated completions of the same prompt; an A/B preference
  becomes a pair directly. Pairs feed the reward model's refresh and online DPO.

Either way a rating may confirm a tripwire (`penalties.PenaltyRules`). Ratings of samples this
trainer never saw (another run, or evicted from memory) are counted as `unknown`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from rlaif_tui.api.models import RatingIn
from rlaif_tui.config.feedback import HumanConfig
from rlaif_tui.feedback.pairs import Pair
from rlaif_tui.feedback.penalties import PenaltyRules

Arrival = Literal["early", "late", "unknown", "duplicate"]


def score_value(score: int) -> float:
    """A 1-5 rating as a reward in [0, 1]."""
    return (min(5, max(1, score)) - 1) / 4


class HumanFeedback:
    def __init__(self, cfg: HumanConfig | None = None, penalties: PenaltyRules | None = None):
        self.cfg = cfg or HumanConfig.model_validate({})
        self.penalties = penalties or PenaltyRules()
        self.samples: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.pending: set[str] = set()
        self.early: dict[str, list[int]] = {}
        self.late_scores: dict[str, dict[str, list[int]]] = {}  # prompt -> completion -> scores
        self.new_pairs: list[Pair] = []
        self.seen: set[str] = set()
        self.counts = {"early": 0, "late": 0, "unknown": 0, "duplicate": 0, "confirmed": 0}
        self.step = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.last_rating_at: float | None = None
        """`time.monotonic()` of the latest rating (any kind): someone is rating."""
        self.last_early_at: float | None = None
        """`time.monotonic()` of the latest rating that counted early."""

    # ----- the trainer's side -------------------------------------------------------------

    def open_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Samples scored and published, not yet used for an update: ratings count early."""
        with self._lock:
            for rec in records:
                self._remember(rec)
                self.pending.add(str(rec["id"]))

    def hold(self) -> float:
        """Wait before the open batch's update so ratings can land in it; the seconds waited.

        Always `hold_s`. While someone is rating (a rating arrived within `rater_hold_s` before
        the hold began), up to `rater_hold_s` until a rating of this batch arrives, then `hold_s`
        after the latest one (never past `rater_hold_s`): a person reading each program before
        scoring it lands every score in an update instead of in the preference pool.
        """
        cfg = self.cfg
        with self._arrived:
            start = time.monotonic()
            rating = self.last_rating_at is not None and start - self.last_rating_at <= (
                cfg.rater_hold_s
            )
            limit = start + max(cfg.hold_s, cfg.rater_hold_s if rating else 0.0)
            while True:
                now = time.monotonic()
                end = start + cfg.hold_s
                if rating:
                    early = self.last_early_at
                    if early is not None and early >= start:  # rated: hold_s after the latest
                        end = min(limit, max(end, early + cfg.hold_s))
                    else:
                        end = limit
                if now >= end:
                    return now - start
                self._arrived.wait(end - now)

    def close_batch(self, records: Sequence[Mapping[str, Any]], step: int) -> None:
        """The update is done: from now on ratings of these samples arrive late."""
        with self._lock:
            self.step = step
            for rec in records:
                sid = str(rec["id"])
                self._remember(rec)
                self.pending.discard(sid)
                if sid in self.early:  # an early score also counts toward later pairs
                    for s in self.early.pop(sid):
                        self._late_score(sid, s)

    def value(self, sample_id: str) -> float | None:
        """The human reward of a pending sample (mean of its early scores), or None."""
        with self._lock:
            scores = self.early.get(sample_id)
            return score_value(round(sum(scores) / len(scores))) if scores else None

    def drain_pairs(self) -> list[Pair]:
        with self._lock:
            out, self.new_pairs = self.new_pairs, []
            return out

    def metrics(self) -> dict[str, float]:
        with self._lock:
            out = {f"human/{k}": float(v) for k, v in self.counts.items()}
            for k in self.counts:
                self.counts[k] = 0
            out["human/penalty_rules"] = float(len(self.penalties.rules))
            return out

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "late_scores": self.late_scores,
                "seen": sorted(self.seen),
                "penalties": self.penalties.state_dict(),
            }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        with self._lock:
            self.late_scores = {p: dict(v) for p, v in state.get("late_scores", {}).items()}
            self.seen = set(state.get("seen", []))
            self.penalties.load_state_dict(state.get("penalties", {}))

    # ----- the daemon's side (through Trainer.add_ratings) --------------------------------

    def add(self, ratings: Iterable[RatingIn]) -> list[Arrival]:
        out = []
        for rating in ratings:
            with self._lock:
                out.append(self._add(rating))
        return out

    def _add(self, r: RatingIn) -> Arrival:
        if r.id in self.seen:
            self.counts["duplicate"] += 1
            return "duplicate"
        self.seen.add(r.id)
        arrival = self._arrive(r)
        self.last_rating_at = time.monotonic()
        if arrival == "early":
            self.last_early_at = self.last_rating_at
        self._arrived.notify_all()
        return arrival

    def _arrive(self, r: RatingIn) -> Arrival:
        if r.chosen_id is not None and r.rejected_id is not None:
            chosen, rejected = self.samples.get(r.chosen_id), self.samples.get(r.rejected_id)
            if chosen is None or rejected is None:
                self.counts["unknown"] += 1
                return "unknown"
            if chosen.get("completion") != rejected.get("completion"):
                self.new_pairs.append(
                    Pair(
                        str(chosen["prompt"]),
                        str(chosen["completion"]),
                        str(rejected["completion"]),
                    )
                )
            self._confirm(r, rejected)
            arrival: Arrival = "early" if r.chosen_id in self.pending else "late"
            self.counts[arrival] += 1
            return arrival
        sid = r.sample_id or ""
        sample = self.samples.get(sid)
        if sample is None or r.score is None:
            self.counts["unknown"] += 1
            return "unknown"
        self._confirm(r, sample)
        if sid in self.pending:
            self.early.setdefault(sid, []).append(r.score)
            self.counts["early"] += 1
            return "early"
        self._late_score(sid, r.score)
        self.counts["late"] += 1
        return "late"

    # ----- internals ------------------------------------------------------------------------

    def _remember(self, rec: Mapping[str, Any]) -> None:
        sid = str(rec["id"])
        self.samples[sid] = dict(rec)
        self.samples.move_to_end(sid)
        while len(self.samples) > self.cfg.keep_samples:
            old, _ = self.samples.popitem(last=False)
            self.pending.discard(old)

    def _late_score(self, sid: str, score: int) -> None:
        sample = self.samples[sid]
        prompt, completion = str(sample["prompt"]), str(sample["completion"])
        rated = self.late_scores.setdefault(prompt, {})
        mine = rated.setdefault(completion, [])
        mine.append(score)
        m = sum(mine) / len(mine)
        for other, scores in rated.items():
            if other == completion:
                continue
            o = sum(scores) / len(scores)
            if m > o:
                self.new_pairs.append(Pair(prompt, completion, other))
            elif o > m:
                self.new_pairs.append(Pair(prompt, other, completion))

    def _confirm(self, r: RatingIn, sample: Mapping[str, Any]) -> None:
        new = self.penalties.confirm(
            sample,
            rating_id=r.id,
            score=r.score if r.score is not None else (1 if r.rejected_id else None),
            comment=r.comment,
            rater=r.rater,
            step=self.step,
            confirm_flags=r.confirm_flags,
        )
        self.counts["confirmed"] += len(new)
