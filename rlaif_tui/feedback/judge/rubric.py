"""The rubric prompt and the parser that turns a judge's answer into a score in [0, 1].

The judge answers with one JSON object of integer scores per criterion, e.g.
`{"correctness": 8, "readability": 6, "efficiency": 7, "safety": 10}` (group mode: a list of
such objects under `"scores"`, one per candidate in the order shown). The reward is the
weighted mean of the criteria mapped from the rubric's scale to [0, 1]. An answer that does not
hold a complete, in-range score is *unparseable*: the sample gets no judge term, never a guess.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from rlaif_tui.config.judge import RubricConfig

CANDIDATE_MARK = "### Candidate"
"""Heads each candidate's code in the user message (the test server finds the code by it)."""


class UnparseableScore(ValueError):
    """The judge's answer holds no complete, in-range score."""


@dataclass(frozen=True)
class Judgement:
    score: float
    """Weighted mean of the criteria, in [0, 1]."""
    criteria: dict[str, float]
    """The judge's raw score per criterion, on the rubric's scale."""


def rubric_digest(rubric: RubricConfig) -> str:
    """A short stable id of the rubric (part of the cache key: edit the rubric, miss the cache)."""
    text = json.dumps(rubric.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _format_lines(rubric: RubricConfig) -> tuple[str, str]:
    lo, hi = rubric.scale
    crit = "\n".join(f"- {name}: {desc}" for name, desc in rubric.criteria.items())
    example = ", ".join(f'"{name}": <{lo}-{hi}>' for name in rubric.criteria)
    return f"Criteria (integers from {lo}, worst, to {hi}, best):\n{crit}\n", example


def system_prompt(rubric: RubricConfig, *, group: int | None = None) -> str:
    criteria, example = _format_lines(rubric)
    if group is None:
        answer = f"Answer with one JSON object and nothing else: {{{example}}}"
    else:
        answer = (
            f"You are shown {group} candidates for the same task. Score each relative to the "
            f'others. Answer with one JSON object and nothing else: {{"scores": [{{{example}}}, '
            f"...]}} with exactly {group} entries, in the order the candidates are shown."
        )
    return f"{rubric.instructions}\n\n{criteria}\n{answer}"


def _clip(code: str, limit: int) -> str:
    return code if len(code) <= limit else code[:limit] + "\n# ... (cut)"


def user_message(prompt: str, completions: list[str], max_chars: int) -> str:
    """The task and the candidate code(s), each fenced under a `### Candidate N` heading."""
    parts = [f"### Task\n```python\n{prompt}\n```\n"]
    for i, code in enumerate(completions, start=1):
        parts.append(f"{CANDIDATE_MARK} {i}\n```python\n{_clip(code, max_chars)}\n```\n")
    return "\n".join(parts)


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_PAIR = re.compile(r'"?([A-Za-z_][A-Za-z0-9_ ]*)"?\s*[:=]\s*(-?\d+(?:\.\d+)?)')


def _json_objects(text: str) -> list[Any]:
    """Every JSON value found in `text`: the whole text, fenced blocks, then `{...}` spans."""
    found: list[Any] = []
    candidates = [text, *_FENCE.findall(text)]
    start = text.find("{")
    end = text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for chunk in candidates:
        try:
            found.append(json.loads(chunk.strip()))
        except (json.JSONDecodeError, ValueError):
            continue
    return found


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _judgement(raw: dict[str, Any], rubric: RubricConfig) -> Judgement:
    lo, hi = rubric.scale
    lowered = {str(k).strip().lower(): v for k, v in raw.items()}
    criteria: dict[str, float] = {}
    for name in rubric.criteria:
        value = _number(lowered.get(name.lower()))
        if value is None:
            raise UnparseableScore(f"no score for {name!r}")
        if not lo <= value <= hi:
            raise UnparseableScore(f"{name}={value:g} is outside {lo}..{hi}")
        criteria[name] = value
    num = den = 0.0
    for name, value in criteria.items():
        w = rubric.weights.get(name, 1.0)
        num += w * (value - lo) / (hi - lo)
        den += w
    return Judgement(score=num / den, criteria=criteria)


def parse_scores(text: str, rubric: RubricConfig) -> Judgement:
    """One candidate's judgement from the judge's answer (JSON, or `name: N` lines)."""
    for obj in _json_objects(text):
        if isinstance(obj, dict):
            try:
                return _judgement(obj, rubric)
            except UnparseableScore:
                continue
    pairs = {m.group(1).strip(): m.group(2) for m in _PAIR.finditer(text)}
    if pairs:
        return _judgement(pairs, rubric)
    raise UnparseableScore(f"no scores in the answer: {text[:120]!r}")


def parse_group_scores(text: str, rubric: RubricConfig, n: int) -> list[Judgement]:
    """`n` judgements from a group answer `{"scores": [{...}, ...]}` (or a bare list)."""
    for obj in _json_objects(text):
        items = obj.get("scores") if isinstance(obj, dict) else obj
        if not isinstance(items, list):
            continue
        if len(items) != n:
            raise UnparseableScore(f"{len(items)} scores for {n} candidates")
        if not all(isinstance(item, dict) for item in items):
            raise UnparseableScore("every entry of scores must be an object of criteria")
        return [_judgement(item, rubric) for item in items]
    raise UnparseableScore(f"no list of scores in the answer: {text[:120]!r}")
