"""Preference files and rating imports: formats, pairs, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlaif_tui.feedback.pairs import Pair, PairsError, dump_pairs, load_pairs
from rlaif_tui.feedback.ratings_import import (
    ratings_from_run,
    ratings_to_pairs,
    read_csv,
    read_json,
    read_ratings,
)


def test_csv_ratings_become_pairs_within_a_prompt(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        'prompt,response,rating\np1,"return a + b",5\np1,"return a - b",1\n'
        'p1,"return b + a",5\np2,"pass",2\n',
        encoding="utf-8",
    )
    ratings = read_csv(path)
    assert [r.rating for r in ratings] == [5.0, 1.0, 5.0, 2.0]
    pairs = ratings_to_pairs(ratings)
    assert Pair("p1", "return a + b", "return a - b") in pairs
    assert Pair("p1", "return b + a", "return a - b") in pairs
    assert len(pairs) == 2  # equal ratings and a lone p2 response give none


def test_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("question,answer\nx,y\n", encoding="utf-8")
    with pytest.raises(PairsError, match=r"h.csv:1: header must have"):
        read_csv(bad_header)
    bad_value = tmp_path / "v.csv"
    bad_value.write_text("prompt,completion,score\na,b,3\nc,d,great\n", encoding="utf-8")
    with pytest.raises(PairsError, match=r"v.csv:3: rating: expected a number"):
        read_csv(bad_value)


def test_json_ratings_both_shapes(tmp_path: Path) -> None:
    items = [
        {"prompt": "p", "response": "a", "rating": 4},
        {"prompt": "p", "completion": "b", "score": 2},
    ]
    flat, wrapped = tmp_path / "a.json", tmp_path / "b.json"
    flat.write_text(json.dumps(items), encoding="utf-8")
    wrapped.write_text(json.dumps({"ratings": items}), encoding="utf-8")
    assert read_json(flat) == read_ratings(wrapped)
    assert ratings_to_pairs(read_json(flat)) == [Pair("p", "a", "b")]
    missing = tmp_path / "m.json"
    missing.write_text(json.dumps([{"prompt": "p", "rating": 1}]), encoding="utf-8")
    with pytest.raises(PairsError, match=r"ratings\[0\]: response: field required"):
        read_json(missing)


def test_pairs_jsonl_round_trip_and_conversational(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    dump_pairs([Pair("x", "good", "bad")], path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(
            json.dumps(
                {
                    "prompt": [{"role": "user", "content": "write f"}],
                    "chosen": [{"role": "assistant", "content": "def f(): return 1"}],
                    "rejected": [{"role": "assistant", "content": "def f(): pass"}],
                }
            )
            + "\n"
        )
    assert load_pairs(path) == [
        Pair("x", "good", "bad"),
        Pair("write f", "def f(): return 1", "def f(): pass"),
    ]


def test_bad_pairs_lines_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"prompt": "x", "chosen": "a"}\nnot json\n{"prompt": "x", "chosen": "a", '
        '"rejected": "a"}\n',
        encoding="utf-8",
    )
    with pytest.raises(PairsError) as err:
        load_pairs(path)
    text = str(err.value)
    assert "bad.jsonl:1: rejected: field required" in text
    assert "bad.jsonl:2: (line): invalid JSON" in text
    assert "bad.jsonl:3: rejected: identical to chosen" in text


def test_daemon_ratings_resolve_against_samples(tmp_path: Path) -> None:
    samples = [
        {"id": "s1", "prompt": "P", "completion": "good"},
        {"id": "s2", "prompt": "P", "completion": "bad"},
        {"id": "s3", "prompt": "P", "completion": "meh"},
    ]
    (tmp_path / "samples.jsonl").write_text(
        "".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8"
    )
    ratings = [
        {"id": "r1", "chosen_id": "s1", "rejected_id": "s2"},
        {"id": "r2", "sample_id": "s3", "score": 4},
        {"id": "r3", "sample_id": "s2", "score": 1},
        {"id": "r4", "sample_id": "gone", "score": 5},
    ]
    assert ratings_from_run(tmp_path, ratings) == [
        Pair("P", "good", "bad"),
        Pair("P", "meh", "bad"),
    ]
