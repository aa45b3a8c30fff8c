"""Preference pairs `{"prompt", "chosen", "rejected"}` (TRL's DPO / reward-model format).

Read from JSONL, one pair per line. Each field is a string (TRL's "standard" format) or, in
TRL's "conversational" format, a list of `{"role", "content"}` messages (the prompt's
contents are joined; a completion is its assistant content). Bad lines fail with
`file:line: field: message`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Pair:
    prompt: str
    chosen: str
    rejected: str


class PairsError(ValueError):
    """A preference file that cannot be used; the message names the file and line."""


def _text(value: Any, field: str, *, assistant: bool) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        roles = ("assistant",) if assistant else ("system", "user", "assistant")
        parts = [str(m.get("content", "")) for m in value if m.get("role") in roles]
        if parts:
            return "\n".join(parts)
    raise ValueError(f"{field}: expected a string or a list of role/content messages")


def parse_pair(obj: Any) -> Pair:
    if not isinstance(obj, dict):
        raise ValueError("(line): expected a JSON object with prompt, chosen, rejected")
    missing = [k for k in ("prompt", "chosen", "rejected") if k not in obj]
    if missing:
        raise ValueError(f"{missing[0]}: field required")
    pair = Pair(
        _text(obj["prompt"], "prompt", assistant=False),
        _text(obj["chosen"], "chosen", assistant=True),
        _text(obj["rejected"], "rejected", assistant=True),
    )
    if pair.chosen == pair.rejected:
        raise ValueError("rejected: identical to chosen; the pair teaches nothing")
    return pair


def load_pairs(path: str | Path) -> list[Pair]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PairsError(f"{path}: cannot read preference pairs: {exc.strerror or exc}") from exc
    pairs, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pairs.append(parse_pair(json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{number}: (line): invalid JSON: {exc.msg}")
        except ValueError as exc:
            errors.append(f"{path}:{number}: {exc}")
    if errors:
        raise PairsError("\n".join(errors))
    if not pairs:
        raise PairsError(f"{path}: no preference pairs")
    return pairs


def dump_pairs(pairs: Iterable[Pair], path: str | Path) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
            n += 1
    return n
