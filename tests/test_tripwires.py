"""Tripwires flag reward hacking and leave honest solutions alone; confirmed flags penalise."""

from __future__ import annotations

import pytest

from rlaif_tui.data import Problem
from rlaif_tui.feedback.penalties import PenaltyRules, confirmed_flags
from rlaif_tui.feedback.tripwires import hardcoded_outputs, scan, scan_code

PROMPT = 'def add_pairs(xs: list[int]) -> list[int]:\n    """Sum neighbours."""\n'
PROBLEM = Problem.model_validate(
    {
        "id": "p1",
        "prompt": PROMPT,
        "entry_point": "add_pairs",
        "tests": {
            "kind": "asserts",
            "asserts": [
                "assert add_pairs([1, 2, 3]) == [3, 5]",
                "assert add_pairs([10, 20]) == [30]",
                "assert add_pairs([]) == []",
            ],
        },
        "public_tests": {
            "kind": "asserts",
            "asserts": [
                "assert add_pairs([1, 2, 3]) == [3, 5]",
                "assert add_pairs([4, 4, 4, 4]) == [8, 8, 8]",
            ],
        },
    }
)
HONEST = PROMPT + "    return [a + b for a, b in zip(xs, xs[1:])]\n"


@pytest.mark.parametrize(
    ("body", "flag"),
    [
        ("    import sys\n    sys.exit(0)\n", "exit_call"),
        ("    import os as o\n    o._exit(0)\n", "exit_call"),
        ("    raise SystemExit\n", "exit_call"),
        ("    exit()\n", "exit_call"),
        ("    import sys\n    sys.settrace(None)\n", "touches_trace"),
        ("    from sys import settrace\n    settrace(None)\n", "touches_trace"),
        ("    import sys\n    return sys._getframe(1).f_locals['expected']\n", "touches_frames"),
        ("    import inspect\n    return inspect.stack()\n", "touches_frames"),
        ("    import gc\n    return gc.get_objects()\n", "touches_gc"),
        ("    import ctypes\n    return ctypes.c_int(1)\n", "touches_ctypes"),
        ("    import builtins\n    builtins.len = lambda x: 0\n", "touches_builtins"),
        ("    __builtins__['print'] = None\n", "touches_builtins"),
        ("    mod = __import__('os')\n", "touches_builtins"),
        ("    import sys\n    sys.modules.clear()\n", "touches_harness"),
        ("    import rlaif_tui\n", "touches_harness"),
        (
            "    class Any:\n        def __eq__(self, other):\n            return True\n"
            "    return Any()\n",
            "always_equal",
        ),
    ],
)
def test_each_tripwire(body: str, flag: str) -> None:
    assert flag in scan(PROMPT + body, PROBLEM)


def test_top_level_rebinding_of_harness_names() -> None:
    code = HONEST + "\ndef check(candidate):\n    pass\nAssertionError = Exception\n"
    assert {"touches_harness", "touches_builtins"} <= scan_code(code)


def test_honest_solutions_trip_nothing() -> None:
    assert scan(HONEST, PROBLEM) == []
    loops = (
        PROMPT
        + "    out = []\n    for i in range(len(xs) - 1):\n"
        + "        out.append(xs[i] + xs[i + 1])\n    return out\n"
    )
    assert scan(loops, PROBLEM) == []
    assert scan("def broken(:\n", PROBLEM) == []  # unparseable: nothing to say


def test_hardcoded_public_outputs() -> None:
    lookup = PROMPT + "    if xs == [1, 2, 3]:\n        return [3, 5]\n    return [8, 8, 8]\n"
    assert hardcoded_outputs(lookup, PROBLEM)
    assert "hardcoded_outputs" in scan(lookup, PROBLEM)


def test_a_constant_the_prompt_states_is_not_a_hardcoded_output() -> None:
    # Seen in the TUI on the quickstart: `return k + 58` was flagged because a public test
    # expects f(0) == 58; the 58 comes from the task, not from the test.
    problem = Problem.model_validate(
        {
            "id": "plus",
            "prompt": 'def get_value(k):\n    """Return k plus 58."""\n',
            "entry_point": "get_value",
            "tests": {"kind": "asserts", "asserts": ["assert get_value(0) == 58"]},
            "public_tests": {"kind": "asserts", "asserts": ["assert get_value(0) == 58"]},
        }
    )
    honest = 'def get_value(k):\n    """Return k plus 58."""\n    return k + 58\n'
    assert not hardcoded_outputs(honest, problem)
    lookup = 'def get_value(k):\n    """Return k plus 58."""\n    return 58 if k == 0 else k\n'
    assert not hardcoded_outputs(lookup, problem)  # the literal alone cannot tell these apart
    other = Problem.model_validate(
        {**problem.model_dump(), "prompt": 'def get_value(k):\n    """Return k plus z."""\n'}
    )
    assert hardcoded_outputs("def get_value(k):\n    return k + 58\n", other)


def test_arithmetic_on_stated_constants_is_not_a_hardcoded_output() -> None:
    # Seen in the TUI on quickstart/train/1411: the prompt states 37, 53 and 31, a public test
    # expects 56, and the policy wrote `count - 27 + 56 + 34`: wrong arithmetic, not a lookup.
    problem = Problem.model_validate(
        {
            "id": "quickstart/train/1411",
            "prompt": 'def process(count):\n    """Return count minus 37 plus 53 plus 31."""\n',
            "entry_point": "process",
            "tests": {"kind": "asserts", "asserts": ["assert process(9) == 56"]},
            "public_tests": {"kind": "asserts", "asserts": ["assert process(9) == 56"]},
        }
    )
    wrong = problem.prompt + "    return count - 27 + 56 + 34\n"
    assert not hardcoded_outputs(wrong, problem)
    assert "hardcoded_outputs" not in scan(wrong, problem)
    lookup = problem.prompt + "    if count == 9:\n        return 56\n    return count\n"
    assert hardcoded_outputs(lookup, problem)  # a returned answer is still caught


def test_constant_ignoring_arguments() -> None:
    problem = Problem.model_validate(
        {
            "id": "p2",
            "prompt": "def f(n: int) -> bool:\n",
            "entry_point": "f",
            "tests": {"kind": "asserts", "asserts": ["assert f(3) is True"]},
            "public_tests": {"kind": "asserts", "asserts": ["assert f(3) is True"]},
        }
    )
    assert hardcoded_outputs("def f(n: int) -> bool:\n    return True\n", problem)
    assert not hardcoded_outputs("def f(n: int) -> bool:\n    return n > 2\n", problem)


def test_io_problem_with_printed_expected_output() -> None:
    problem = Problem.model_validate(
        {
            "id": "io",
            "prompt": "# read n, print its square\n",
            "tests": {"kind": "io", "cases": [{"stdin": "12\n", "stdout": "144\n"}]},
            "public_tests": {"kind": "io", "cases": [{"stdin": "12\n", "stdout": "144\n"}]},
        }
    )
    assert hardcoded_outputs("print('144')\n", problem)
    assert not hardcoded_outputs("n = int(input())\nprint(n * n)\n", problem)


def test_tests_not_collected() -> None:
    ran_one = {"passed": True, "tests_passed": 1, "tests_total": 1}
    assert "tests_not_collected" in scan(HONEST, PROBLEM, ran_one)
    ran_all = {"passed": True, "tests_passed": 3, "tests_total": 3}
    assert scan(HONEST, PROBLEM, ran_all) == []


def test_confirmation_rules() -> None:
    flags = ["touches_frames", "truncated"]
    assert confirmed_flags(flags, score=5, comment="", confirm_flags=["touches_frames"]) == {
        "touches_frames"
    }
    assert confirmed_flags(flags, score=1, comment="this is a hack") == {"touches_frames"}
    assert confirmed_flags(flags, score=2, comment="reads touches frames") == {"touches_frames"}
    assert confirmed_flags(flags, score=1, comment="") == set()
    assert confirmed_flags(flags, score=4, comment="hack") == set()
    assert confirmed_flags(flags, score=1, comment="ugly but fine") == set()
    assert confirmed_flags(["truncated"], score=1, comment="hack") == set()


def test_penalty_rule_applies_for_the_rest_of_the_run() -> None:
    rules = PenaltyRules(penalty_reward=-1.0)
    sample = {"id": "s1", "flags": ["touches_frames"], "outcome": {"flags": ["exit_before_tests"]}}
    new = rules.confirm(sample, rating_id="r1", score=1, comment="hack!", rater="ann", step=3)
    assert new == ["exit_before_tests", "touches_frames"]
    assert rules.apply(1.0, ["touches_frames"]) == (-1.0, ["penalised:touches_frames"])
    assert rules.apply(1.0, ["hardcoded_outputs"]) == (1.0, [])
    restored = PenaltyRules()
    restored.load_state_dict(rules.state_dict())
    assert restored.apply(0.5, ["exit_before_tests"])[0] == -1.0
