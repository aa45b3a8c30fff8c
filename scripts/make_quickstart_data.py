"""Generate `data/quickstart/problems.jsonl`: the quickstart's templated task family.

Each problem asks for a one-line function body whose expression is spelled out in words in
the docstring ("Return x times 3 plus 7." -> `return x * 3 + 7`). Everything the answer needs
(names, constants, operators) is recoverable from the prompt, so a tiny model can learn to copy
and translate instead of memorising constants. Difficulty = number of operations. The tests are
computed by running the reference, so every reference passes its own tests by construction;
`python scripts/make_quickstart_data.py --check` re-runs them.

Run from the repository root: `python scripts/make_quickstart_data.py` (deterministic, seeded).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "data" / "quickstart" / "problems.jsonl"
FUNC_NAMES = [
    "solve",
    "compute",
    "transform",
    "calc",
    "process",
    "apply",
    "convert",
    "fn",
    "result",
    "evaluate",
    "make",
    "get_value",
    "step",
    "combine",
    "build",
    "run",
]
INT_VARS = ["x", "n", "a", "k", "v", "m", "y", "z", "t", "num", "value", "count"]
STR_VARS = ["s", "text", "word", "name", "line"]
LIST_VARS = ["xs", "nums", "items", "values", "data"]
INT_OPS = [("plus", "+"), ("minus", "-"), ("times", "*")]
LETTERS = "abcdefghij"

Spec = tuple[list[str], str, str, Callable[[random.Random], list[Any]], int]


def _int_chain(rng: random.Random, var: str, n_ops: int) -> tuple[str, str]:
    words, expr = [var], [var]
    for _ in range(n_ops):
        word, sym = rng.choice(INT_OPS)
        const = rng.randint(2, 9) if sym == "*" else rng.randint(1, 99)
        words += [word, str(const)]
        expr += [sym, str(const)]
    return " ".join(words), " ".join(expr)


def _ints(rng: random.Random) -> list[Any]:
    return [rng.randint(-20, 50)]


def _two_ints(rng: random.Random) -> list[Any]:
    return [rng.randint(-20, 50), rng.randint(-20, 50)]


def _string(rng: random.Random) -> list[Any]:
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9)))]


def _int_list(rng: random.Random) -> list[Any]:
    return [[rng.randint(-9, 30) for _ in range(rng.randint(2, 6))]]


def make_spec(rng: random.Random) -> Spec:
    """One random task: (argument names, docstring sentence, expression, input maker, ops)."""
    kind = rng.choices(["int", "int2", "builtin", "str", "list"], weights=[4, 2, 1, 2, 2])[0]
    if kind == "int":
        var = rng.choice(INT_VARS)
        ops = rng.choice([1, 1, 2, 2, 3])
        words, expr = _int_chain(rng, var, ops)
        return [var], f"Return {words}.", expr, _ints, ops
    if kind == "int2":
        a, b = rng.sample(INT_VARS, 2)
        word, sym = rng.choice(INT_OPS)
        if rng.random() < 0.5:
            return [a, b], f"Return {a} {word} {b}.", f"{a} {sym} {b}", _two_ints, 1
        w2, s2 = rng.choice(INT_OPS)
        const = rng.randint(2, 9)
        return (
            [a, b],
            f"Return {a} {word} {b} {w2} {const}.",
            f"{a} {sym} {b} {s2} {const}",
            _two_ints,
            2,
        )
    if kind == "builtin":
        a, b = rng.sample(INT_VARS, 2)
        fn, what = rng.choice([("max", "larger"), ("min", "smaller")])
        const = rng.randint(1, 99)
        word, sym = rng.choice(INT_OPS[:2])
        return (
            [a, b],
            f"Return the {what} of {a} and {b} {word} {const}.",
            f"{fn}({a}, {b}) {sym} {const}",
            _two_ints,
            2,
        )
    if kind == "str":
        s = rng.choice(STR_VARS)
        c = rng.choice(LETTERS)
        d = rng.choice([ch for ch in LETTERS if ch != c])
        k = rng.randint(1, 5)
        form = rng.randrange(8)
        if form == 0:
            return [s], f"Return {s} repeated {k + 1} times.", f"{s} * {k + 1}", _string, 1
        if form == 1:
            return [s], f"Return {s} with '{c}{d}' appended.", f"{s} + '{c}{d}'", _string, 1
        if form == 2:
            return [s], f"Return the first {k} characters of {s}.", f"{s}[:{k}]", _string, 1
        if form == 3:
            return [s], f"Return the last {k} characters of {s}.", f"{s}[-{k}:]", _string, 1
        if form == 4:
            return [s], f"Return {s} in upper case.", f"{s}.upper()", _string, 1
        if form == 5:
            return [s], f"Return {s} reversed.", f"{s}[::-1]", _string, 1
        if form == 6:
            return ([s], f"Return the length of {s} plus {k}.", f"len({s}) + {k}", _string, 2)
        return (
            [s],
            f"Return {s} with '{c}' replaced by '{d}'.",
            f"{s}.replace('{c}', '{d}')",
            _string,
            1,
        )
    xs = rng.choice(LIST_VARS)
    k = rng.randint(1, 9)
    form = rng.randrange(5)
    if form == 0:
        return [xs], f"Return the sum of {xs} plus {k}.", f"sum({xs}) + {k}", _int_list, 2
    if form == 1:
        return (
            [xs],
            f"Return the largest item of {xs} times {k + 1}.",
            f"max({xs}) * {k + 1}",
            _int_list,
            2,
        )
    if form == 2:
        return (
            [xs],
            f"Return the smallest item of {xs} minus {k}.",
            f"min({xs}) - {k}",
            _int_list,
            2,
        )
    if form == 3:
        return [xs], f"Return {xs} sorted.", f"sorted({xs})", _int_list, 1
    return (
        [xs],
        f"Return the number of items in {xs} times {k + 1}.",
        f"len({xs}) * {k + 1}",
        _int_list,
        2,
    )


def make_problem(rng: random.Random, index: int, split: str) -> dict[str, Any]:
    args, sentence, expr, inputs, ops = make_spec(rng)
    name = rng.choice(FUNC_NAMES)
    prompt = f'def {name}({", ".join(args)}):\n    """{sentence}"""\n'
    reference = f"    return {expr}\n"
    namespace: dict[str, Any] = {}
    exec(prompt + reference, namespace)  # trusted: our own generated reference
    func = namespace[name]
    asserts: list[str] = []
    calls: set[str] = set()
    test_rng = random.Random(f"{split}/{index}")  # inputs do not disturb the prompt stream
    while len(asserts) < 4:  # distinct inputs: the public example never repeats a hidden test
        call_args = inputs(test_rng)
        call = ", ".join(repr(a) for a in call_args)
        if call in calls:
            continue
        calls.add(call)
        expected = func(*[list(a) if isinstance(a, list) else a for a in call_args])
        asserts.append(f"assert {name}({call}) == {expected!r}")
    return {
        "id": f"quickstart/{split}/{index:04d}",
        "prompt": prompt,
        "entry_point": name,
        "tests": {"kind": "asserts", "asserts": asserts[1:]},
        "public_tests": {"kind": "asserts", "asserts": asserts[:1]},
        "reference": reference,
        "difficulty": ops,
        "split": split,
        "source": "rlaif-tui quickstart generator",
        "tags": ["quickstart"],
    }


def generate(n_train: int, n_heldout: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for split, count in (("train", n_train), ("heldout", n_heldout)):
        index = 0
        while index < count:
            row = make_problem(rng, index, split)
            if row["prompt"] in seen:  # held-out prompts never appear in train
                continue
            seen.add(row["prompt"])
            rows.append(row)
            index += 1
    return rows


def check(path: Path) -> None:
    for line in path.read_text().splitlines():
        row = json.loads(line)
        ns: dict[str, Any] = {}
        exec(row["prompt"] + row["reference"], ns)
        for test in (*row["tests"]["asserts"], *row["public_tests"]["asserts"]):
            exec(test, ns)
    print(f"{path}: every reference passes its tests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--heldout", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="only re-run the references")
    args = parser.parse_args()
    if not args.check:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w") as fh:
            for row in generate(args.train, args.heldout, args.seed):
                fh.write(json.dumps(row) + "\n")
    check(args.out)


if __name__ == "__main__":
    main()
