"""Scoring: from completions to the rewards and sample records the trainer learns from.

- `sources/`: the reward sources (`execution`, `syntax`, `judge`, `rm`, `style`) behind the
  `RewardSource` protocol; each scores a batch asynchronously;
- `pending`: send a batch to every source at once and collect what comes back (`Scored`);
- `stage`: the scoring stage of a step (`ScoringStage`): human ratings, tripwires, penalties,
  the one mix with the live weights, pairs for the reward model and online DPO;
- `mix`: weighted mixing that renormalises over the sources that answered;
- `records`: the sample record (docs/architecture.md), built once per completion.

It composes the leaf capabilities of `feedback/` (judge, reward model, teacher, tripwires,
human store) and the sandbox of `reward/`; the trainer is its only caller.
"""
