"""Mix reward sources into one scalar per sample with the weights from the config.

reward_i = sum_s w_s v_{s,i} / sum_s w_s over the sources s that scored sample i (v not None):
a source that is unavailable for a sample drops out and the others are renormalised, so a
judge outage never turns a passing sample into a zero. A sample no source could score gets
0.0 and the flag `no_reward`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def mix(
    values: Mapping[str, Sequence[float | None]], weights: Mapping[str, float]
) -> tuple[list[float], list[list[str]]]:
    """Per-sample mixed rewards and flags, from per-source value lists of equal length."""
    lengths = {len(v) for v in values.values()}
    if len(lengths) > 1:
        raise ValueError(f"reward sources scored different numbers of samples: {lengths}")
    n = lengths.pop() if lengths else 0
    rewards: list[float] = []
    flags: list[list[str]] = []
    for i in range(n):
        num = den = 0.0
        for name, vals in values.items():
            w = weights.get(name, 0.0)
            v = vals[i]
            if v is None or w == 0.0:
                continue
            num += w * v
            den += w
        rewards.append(num / den if den else 0.0)
        flags.append([] if den else ["no_reward"])
    return rewards, flags


def source_means(values: Mapping[str, Sequence[float | None]]) -> dict[str, float]:
    """`reward/<source>` metrics: each source's mean over the samples it scored."""
    out = {}
    for name, vals in values.items():
        got = [v for v in vals if v is not None]
        if got:
            out[f"reward/{name}"] = sum(got) / len(got)
    return out
