from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui.data import AssertsTests, CheckTests, IoTests, Problem, dump_problems, load_problems
from rlaif_tui.data.importers import SourceError, import_problems
from rlaif_tui.data.importers.common import read_records
from rlaif_tui.data.importers.leetcode import parse_input, parse_output
from rlaif_tui.data.validate import count_tests, validate_file

FIXTURES = Path(__file__).parent / "fixtures"

SHARED = {
    "humaneval": ("HumanEval.jsonl.gz", 164),
    "mbpp": ("mbpp.jsonl", 974),
    "mbpp-sanitized": ("sanitized-mbpp.json", 427),
}


def shared_file(directory: Path, name: str) -> Path:
    path = directory / name
    if not path.exists():
        pytest.skip(f"{path} is absent (benchmarks are read in place, never copied into the repo)")
    return path


def round_trip(problems: list[Problem], tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    dump_problems(problems, out)
    assert load_problems(out) == problems
    assert validate_file(out).errors == []


def check_humaneval(record: dict[str, Any], problem: Problem) -> None:
    assert problem.id == record["task_id"]
    assert problem.prompt == record["prompt"]
    assert problem.entry_point == record["entry_point"]
    assert problem.reference == record["canonical_solution"]
    assert isinstance(problem.tests, CheckTests)
    assert problem.tests.check == record["test"]
    assert problem.program("X") == record["prompt"] + "X"
    assert problem.split == "heldout"


def check_mbpp(record: dict[str, Any], problem: Problem, prefix: str, text_key: str) -> None:
    assert problem.id == f"{prefix}/{record['task_id']}"
    assert record[text_key].strip() in problem.prompt
    assert record["test_list"][0].strip() in problem.prompt
    assert problem.reference == record["code"]
    assert isinstance(problem.tests, AssertsTests)
    assert problem.tests.asserts == record["test_list"]
    assert problem.public_tests == AssertsTests(
        asserts=record["test_list"][:1], setup=problem.tests.setup
    )
    assert problem.entry_point is not None
    assert re.search(rf"\b{problem.entry_point}\s*\(", record["test_list"][0])
    in_test_range = 11 <= record["task_id"] <= 510
    assert problem.split == ("heldout" if in_test_range else "train")


@pytest.mark.parametrize("fmt", list(SHARED))
def test_shared_files_round_trip_and_map_back_to_their_records(
    fmt: str, tmp_path: Path, shared_benchmarks: Path
) -> None:
    name, count = SHARED[fmt]
    src = shared_file(shared_benchmarks, name)
    imported = import_problems(fmt, src)
    assert len(imported.problems) == count
    assert imported.skipped == []
    round_trip(imported.problems, tmp_path)
    records = [record for _, record in read_records(src)]
    assert len(records) == count
    for record, problem in zip(records, imported.problems, strict=True):
        if fmt == "humaneval":
            check_humaneval(record, problem)
        elif fmt == "mbpp":
            check_mbpp(record, problem, "mbpp", "text")
            assert problem.tests.setup == record["test_setup_code"]  # type: ignore[union-attr]
        else:
            check_mbpp(record, problem, "mbpp-sanitized", "prompt")
            setup = problem.tests.setup  # type: ignore[union-attr]
            assert all(line in setup for line in record["test_imports"])
        assert count_tests(problem.tests) >= 1


def test_mbpp_prompt_is_a_docstring_so_the_program_is_prompt_plus_code(
    shared_benchmarks: Path,
) -> None:
    problems = import_problems("mbpp", shared_file(shared_benchmarks, "mbpp.jsonl")).problems
    first = problems[1]
    assert first.prompt.startswith('"""\nWrite a function to find the similar elements')
    program = first.program(first.reference or "")
    compile(program, "mbpp-2", "exec")
    assert program.endswith(first.reference or "")
    # The two records whose tests use a class the record never defines still import.
    quirks = {p.id: p for p in problems if p.id in ("mbpp/367", "mbpp/927")}
    assert set(quirks) == {"mbpp/367", "mbpp/927"}
    for problem in quirks.values():
        assert isinstance(problem.tests, AssertsTests)
        assert "Node(" in problem.tests.setup


def test_mbpp_challenge_tests_are_opt_in(shared_benchmarks: Path) -> None:
    src = shared_file(shared_benchmarks, "mbpp.jsonl")
    plain = {p.id: p for p in import_problems("mbpp", src).problems}
    extra = {p.id: p for p in import_problems("mbpp", src, challenge=True).problems}
    records = {f"mbpp/{r['task_id']}": r for _, r in read_records(src)}
    grown = [pid for pid in plain if count_tests(extra[pid].tests) > count_tests(plain[pid].tests)]
    assert grown == [pid for pid, r in records.items() if r["challenge_test_list"]]
    assert len(grown) == 11


def test_apps_rows_become_io_and_call_based_problems(tmp_path: Path) -> None:
    imported = import_problems("apps", FIXTURES / "apps.jsonl")
    assert [p.id for p in imported.problems] == [f"apps/{i}" for i in range(5)]
    assert len(imported.skipped) == 1
    assert "apps.jsonl:6: input_output: no test cases" in imported.skipped[0]
    round_trip(imported.problems, tmp_path)
    by_id = {p.id: p for p in imported.problems}
    sources = [r for _, r in read_records(FIXTURES / "apps.jsonl")][:5]
    for record, problem in zip(sources, imported.problems, strict=True):
        io = json.loads(record["input_output"])
        assert count_tests(problem.tests) == len(io["inputs"])
        assert record["question"] in problem.prompt
        assert problem.reference == json.loads(record["solutions"])[0]
    # Lists of lines are joined with newlines.
    prefix = by_id["apps/1"].tests
    assert isinstance(prefix, IoTests)
    assert (prefix.cases[0].stdin, prefix.cases[0].stdout) == ("3\n1 2 3", "1\n3\n6")
    # Call-based: a class Solution is reached through a shim; the prelude supplies List.
    pair = by_id["apps/2"]
    assert pair.entry_point == "maxPairSum"
    assert "Use Call-Based format" in pair.prompt
    assert "class Solution:" in pair.prompt
    program = pair.program(pair.reference or "")
    assert "from typing import List" in program
    assert "Solution().maxPairSum(*args, **kwargs)" in program
    assert isinstance(pair.tests, AssertsTests)
    assert pair.tests.asserts[0] == "assert _apps_equal(maxPairSum([1, 5, 3]), [8])"
    # String keys of a JSON object become integers again.
    ids = by_id["apps/4"].tests
    assert isinstance(ids, AssertsTests)
    assert ids.asserts[0] == "assert _apps_equal(sum_ids({1: 'x', 2: 'y', 3: 'x'}, 'x'), [4])"
    assert [p.difficulty for p in imported.problems] == [2, 2, 3, 2, 5]


def test_apps_directory_tree_gives_the_same_problems_as_the_rows() -> None:
    rows = {p.id: p for p in import_problems("apps", FIXTURES / "apps.jsonl").problems}
    tree = import_problems("apps", FIXTURES / "apps_dir").problems
    assert [p.id for p in tree] == ["apps/0", "apps/1"]
    for problem, same in zip(tree, (rows["apps/0"], rows["apps/2"]), strict=True):
        assert problem.model_dump(exclude={"id"}) == same.model_dump(exclude={"id"})


def test_codecontests_tests_references_and_skips(tmp_path: Path) -> None:
    imported = import_problems("codecontests", FIXTURES / "codecontests.jsonl")
    assert [p.id for p in imported.problems] == [
        "codecontests/9001_A. Digit Count",
        "codecontests/9001_B. Pair Sums",
    ]
    assert len(imported.skipped) == 1
    assert "named files" in imported.skipped[0]
    round_trip(imported.problems, tmp_path)
    digits, pairs = imported.problems
    assert isinstance(digits.tests, IoTests)
    assert isinstance(digits.public_tests, IoTests)
    # public 1 + private 2 + generated 3, one generated case repeating the public one
    assert len(digits.tests.cases) == 5
    assert digits.public_tests.cases[0].stdin == "1234\n"
    assert digits.reference == "s = input().strip()\nprint(sum(c in '02468' for c in s))\n"
    assert digits.program(digits.reference) == digits.reference
    assert (digits.difficulty, pairs.difficulty) == (1, 3)
    assert digits.tags == ["implementation", "math"]
    assert pairs.reference is None  # only a Python 2 solution


def test_leetcode_inputs_in_every_form(tmp_path: Path) -> None:
    imported = import_problems("leetcode", FIXTURES / "leetcode.json")
    problems = {p.id: p for p in imported.problems}
    assert list(problems) == [
        "leetcode/widest-gap",
        "leetcode/is-mirror-word",
        "leetcode/3",
        "leetcode/mean-of-values",
        "leetcode/4",
    ]
    round_trip(imported.problems, tmp_path)
    asserts = {pid: p.tests.asserts for pid, p in problems.items()}  # type: ignore[union-attr]
    assert asserts["leetcode/widest-gap"][0] == "assert widestGap([3, 6, 9, 1]) == 3"
    assert asserts["leetcode/is-mirror-word"][1] == "assert is_mirror_word('levels') == False"
    assert asserts["leetcode/3"][0] == "assert rotate([1, 2, 3], 1) == [3, 1, 2]"
    assert asserts["leetcode/mean-of-values"][0] == (
        "assert math.isclose(mean([1, 2, 3, 4]), 2.5, rel_tol=1e-5, abs_tol=1e-5)"
    )
    assert asserts["leetcode/4"] == [
        "assert reverse_text('abc') == 'cba'",
        "assert reverse_text('') == ''",
        "assert reverse_text('a b') == 'b a'",
    ]
    assert [p.difficulty for p in problems.values()] == [3, 2, 3, 1, 5]
    assert problems["leetcode/mean-of-values"].split == "heldout"
    gap = problems["leetcode/widest-gap"]
    assert gap.program(gap.reference or "").startswith("from typing import *\n")


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("nums = [2,7,11,15], target = 9", [[2, 7, 11, 15], 9]),
        ("[2,7,11,15]\n9", [[2, 7, 11, 15], 9]),
        ('s = "a,b", flag = true, x = null', ["a,b", True, None]),
        ("[[1,2],[3]]", [[[1, 2], [3]]]),
        ([1, "x"], [1, "x"]),
        ({"a": 1, "b": [2]}, [1, [2]]),
    ],
)
def test_leetcode_input_forms(text: object, args: list[object]) -> None:
    assert parse_input(text) == args


def test_leetcode_output_forms() -> None:
    assert parse_output("[0,1]") == [0, 1]
    assert parse_output("true") is True
    assert parse_output('"x"') == "x"
    assert parse_output("plain words") == "plain words"
    assert parse_output(3) == 3


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_records_are_named_by_file_record_and_field(tmp_path: Path) -> None:
    lc = write(tmp_path, "lc.json", json.dumps([{"prompt": "p", "solution": "def f(x): pass"}]))
    with pytest.raises(SourceError, match=r"lc\.json\[0\]: test_cases: field required"):
        import_problems("leetcode", lc)
    bad_input = [
        {"prompt": "p", "solution": "def f(x): pass", "test_cases": [{"input": "x y", "output": 1}]}
    ]
    lc2 = write(tmp_path, "lc2.json", json.dumps(bad_input))
    with pytest.raises(SourceError, match=r"lc2\.json\[0\]: test_cases\.0: cannot read 'x y'"):
        import_problems("leetcode", lc2)
    row = {"problem_id": 7, "question": "q", "input_output": "{not json", "solutions": "[]"}
    apps = write(tmp_path, "apps.jsonl", json.dumps(row) + "\n")
    with pytest.raises(SourceError, match=r"apps\.jsonl:1: input_output: not valid JSON"):
        import_problems("apps", apps)
    he = write(tmp_path, "he.jsonl", '{"task_id": "a"}\nnot json\n')
    with pytest.raises(SourceError, match=r"he\.jsonl:1: entry_point: field required"):
        import_problems("humaneval", he)
    he2 = write(
        tmp_path,
        "he2.jsonl",
        json.dumps(
            {
                "task_id": "a",
                "entry_point": "f",
                "prompt": "",
                "test": "def check(c): pass",
                "canonical_solution": "",
            }
        )
        + "\n",
    )
    with pytest.raises(SourceError, match=r"he2\.jsonl:1: cannot build a problem: prompt: "):
        import_problems("humaneval", he2)
    with pytest.raises(SourceError, match="no such file"):
        import_problems("mbpp", tmp_path / "missing.jsonl")
