"""Reward sources: each scores a batch of completions asynchronously.

A source has a `name` (its key in `reward.weights`, in the sample record's `rewards` and in
the `reward/<name>` metric) and `submit(requests) -> Future[list[SourceScore]]`, so scoring
runs while the trainer does other work. A source may answer `None` for a sample it cannot
score (a judge that timed out, no human rating yet); mixing then renormalises the weights of
the sources that did answer.
"""

from rlaif_tui.scoring.sources.base import (
    RewardSource,
    ScoreRequest,
    SourceBase,
    SourceScore,
    chain,
)

__all__ = ["RewardSource", "ScoreRequest", "SourceBase", "SourceScore", "chain"]
