"""Import human ratings from files and turn them into preference pairs.

Accepted inputs:

- CSV with a header `prompt,response,rating` (`completion` for `response` and `score` for
  `rating` are accepted too); ratings are numbers (1-5 in our runs, any scale works).
- JSON: a list of `{"prompt", "response", "rating"}` objects, or `{"ratings": [...]}` of them.
- The daemon's own export (`GET /api/ratings?format=json` or `.jsonl`): ratings that name
  sample ids, resolved against the run's `samples.jsonl` (`ratings_from_run`).

Scalar ratings become pairs within a prompt: every two responses with different mean ratings
give one pair, the higher-rated one chosen (the Bradley-Terry view of ratings).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from rlaif_tui.feedback.pairs import Pair, PairsError


@dataclass(frozen=True)
class ScalarRating:
    prompt: str
    response: str
    rating: float


RESPONSE_KEYS = ("response", "completion")
RATING_KEYS = ("rating", "score")


def _pick(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in row and row[key] not in (None, ""):
            return row[key]
    raise KeyError(keys[0])


def _rating(row: Mapping[str, Any], where: str) -> ScalarRating:
    try:
        prompt = row["prompt"]
        response = _pick(row, RESPONSE_KEYS)
        raw = _pick(row, RATING_KEYS)
    except KeyError as exc:
        raise PairsError(f"{where}: {exc.args[0]}: field required") from None
    if isinstance(raw, bool):
        raise PairsError(f"{where}: rating: expected a number, got {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise PairsError(f"{where}: rating: expected a number, got {raw!r}") from None
    if value != value:
        raise PairsError(f"{where}: rating: NaN is not a rating")
    return ScalarRating(str(prompt), str(response), value)


def read_csv(path: str | Path) -> list[ScalarRating]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = set(reader.fieldnames or [])
            if (
                "prompt" not in header
                or not header & set(RESPONSE_KEYS)
                or not (header & set(RATING_KEYS))
            ):
                raise PairsError(
                    f"{path}:1: header must have prompt, response and rating columns, "
                    f"got {sorted(header)}"
                )
            return [_rating(row, f"{path}:{reader.line_num}") for row in reader]
    except OSError as exc:
        raise PairsError(f"{path}: cannot read ratings: {exc.strerror or exc}") from exc


def read_json(path: str | Path) -> list[ScalarRating]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PairsError(f"{path}: cannot read ratings: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise PairsError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    items = data.get("ratings") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PairsError(f'{path}: expected a list of ratings or {{"ratings": [...]}}')
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PairsError(f"{path}: ratings[{i}]: expected an object")
        out.append(_rating(item, f"{path}: ratings[{i}]"))
    return out


def read_ratings(path: str | Path) -> list[ScalarRating]:
    """CSV or JSON by the file's suffix."""
    return read_csv(path) if Path(path).suffix.lower() == ".csv" else read_json(path)


def ratings_to_pairs(ratings: Iterable[ScalarRating]) -> list[Pair]:
    """Pairs within each prompt from responses whose mean ratings differ."""
    by_prompt: dict[str, dict[str, list[float]]] = {}
    for r in ratings:
        by_prompt.setdefault(r.prompt, {}).setdefault(r.response, []).append(r.rating)
    pairs = []
    for prompt, responses in by_prompt.items():
        means = [(sum(v) / len(v), resp) for resp, v in responses.items()]
        for (ma, a), (mb, b) in combinations(means, 2):
            if ma > mb:
                pairs.append(Pair(prompt, a, b))
            elif mb > ma:
                pairs.append(Pair(prompt, b, a))
    return pairs


def _load_samples(samples_path: Path) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, Any]] = {}
    with samples_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                samples[str(rec["id"])] = rec
    return samples


def ratings_from_run(run_dir: str | Path, ratings: Iterable[Mapping[str, Any]]) -> list[Pair]:
    """Pairs from the daemon's stored ratings (sample ids) and the run's samples.jsonl."""
    run = Path(run_dir)
    samples = _load_samples(run / "samples.jsonl")
    scalar, pairs = [], []
    for r in ratings:
        if r.get("chosen_id") and r.get("rejected_id"):
            c, j = samples.get(str(r["chosen_id"])), samples.get(str(r["rejected_id"]))
            if c is not None and j is not None and c["completion"] != j["completion"]:
                pairs.append(Pair(str(c["prompt"]), str(c["completion"]), str(j["completion"])))
        elif r.get("sample_id") and r.get("score") is not None:
            s = samples.get(str(r["sample_id"]))
            if s is not None:
                scalar.append(ScalarRating(str(s["prompt"]), str(s["completion"]), r["score"]))
    return pairs + ratings_to_pairs(scalar)
