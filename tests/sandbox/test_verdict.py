"""Verdict integrity: each forgery runs against all three test kinds and must end not-passed,
while the honest solution under the same tests passes (so each test can fail)."""

from __future__ import annotations

from typing import Any

import pytest

from rlaif_tui.reward import Executor
from tests.sandbox.conftest import run_one

HONEST = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"

TESTS: dict[str, dict[str, Any]] = {
    "asserts": {"kind": "asserts", "asserts": ["assert add(1, 2) == 3", "assert add(20, 5) == 25"]},
    "check": {
        "kind": "check",
        "entry_point": "add",
        "check": (
            "def check(candidate):\n"
            "    assert candidate(1, 2) == 3\n"
            "    assert candidate(20, 5) == 25\n"
        ),
    },
    "io": {
        "kind": "io",
        "cases": [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "20 5\n", "stdout": "25\n"}],
    },
}
IO_MAIN = "\na, b = map(int, input().split())\nprint(add(a, b))\n"

# Each forgery is module-level code plus a wrong `add`. Expected values never reach the child,
# so a forgery can only act on the child itself.
FORGERIES: dict[str, str] = {
    "sys_exit_0": "import sys\nsys.exit(0)\n" + WRONG,
    "os_exit_0": "import os\nos._exit(0)\n" + WRONG,
    "exit_in_call": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "success_markers": "print('All tests passed!')\nprint('PASSED')\nprint('OK')\n"
    "print('3')\nprint('25')\n" + WRONG,
    "patch_assertion_error": "import builtins\nclass Q(Exception):\n    pass\n"
    "builtins.AssertionError = Q\n" + WRONG,
    "patch_builtins_dict": "__builtins__.__dict__['AssertionError'] = type('Q', (Exception,), {})\n"
    "__builtins__.__dict__['print'] = lambda *a, **k: None\n" + WRONG,
    "patch_unittest": "import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\n"
    "unittest.TestCase.assertTrue = lambda *a, **k: None\n" + WRONG,
    "settrace": "import sys\n"
    "def tr(frame, event, arg):\n"
    "    if event == 'exception':\n"
    "        return None\n"
    "    return tr\n"
    "sys.settrace(tr)\n" + WRONG,
    "frame_walk": "import sys\n"
    "def add(a, b):\n"
    "    f = sys._getframe(1)\n"
    "    while f is not None:\n"
    "        rt = f.f_locals.get('self')\n"
    "        if rt is not None and hasattr(rt, 'call'):\n"
    "            rt.call = lambda req: {'ok': True, 'value': True}\n"
    "        f = f.f_back\n"
    "    return True\n",
    "gc_hunt": "import gc\n"
    "def add(a, b):\n"
    "    for o in gc.get_objects():\n"
    "        if isinstance(o, (list, tuple)) and len(o) == 2 and o[0] == a:\n"
    "            return o[1]\n"
    "        if isinstance(o, str) and ('== 3' in o or '3\\n' == o):\n"
    "            return 3\n"
    "    return 0\n",
    "always_equal": "class Any:\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = object.__hash__\n"
    "def add(a, b):\n    return Any()\n",
    "int_subclass": "class I(int):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = int.__hash__\n"
    "def add(a, b):\n    return I(0)\n",
    "str_subclass": "class S(str):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = str.__hash__\n"
    "def add(a, b):\n    return S('0')\n",
    "forged_reply_frames": "import json, os, struct\n"
    "def add(a, b):\n"
    "    for v in (True, 3, 25):\n"
    "        msg = json.dumps({'ok': True, 'value': v}).encode()\n"
    "        try:\n"
    "            os.write(3, struct.pack('>I', len(msg)) + msg)\n"
    "        except OSError:\n"
    "            pass\n"
    "    return 0\n",
    "read_tests_from_disk": "import glob, os\n"
    "found = []\n"
    "for pattern in ('/work/**/*.jsonl*', '/tmp/**/*', '/proc/*/cmdline'):\n"
    "    try:\n"
    "        found += glob.glob(pattern, recursive=True)[:50]\n"
    "    except OSError:\n"
    "        pass\n"
    "def add(a, b):\n"
    "    for p in found:\n"
    "        try:\n"
    "            if 'add(1, 2) == 3' in open(p).read():\n"
    "                return 3\n"
    "        except OSError:\n"
    "            pass\n"
    "    return 0\n",
}


def job_code(kind: str, body: str) -> str:
    return body + IO_MAIN if kind == "io" else body


@pytest.mark.parametrize("kind", sorted(TESTS))
def test_honest_solution_passes_and_wrong_fails(executor: Executor, kind: str) -> None:
    honest = run_one(executor, job_code(kind, HONEST), TESTS[kind])
    assert honest.passed, honest
    assert (honest.tests_passed, honest.tests_total) == (2, 2)
    wrong = run_one(executor, job_code(kind, WRONG), TESTS[kind])
    assert not wrong.passed
    assert wrong.tests_passed == 0


@pytest.mark.parametrize("kind", sorted(TESTS))
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forgery_does_not_pass(executor: Executor, kind: str, forgery: str) -> None:
    o = run_one(executor, job_code(kind, FORGERIES[forgery]), TESTS[kind])
    assert not o.passed, o
    assert o.tests_passed == 0, o
    assert o.status not in ("sandbox_error", "invalid"), o


@pytest.mark.parametrize("kind", ["asserts", "check"])
def test_exit_before_tests_is_flagged(executor: Executor, kind: str) -> None:
    for body in (FORGERIES["sys_exit_0"], FORGERIES["os_exit_0"]):
        o = run_one(executor, job_code(kind, body), TESTS[kind])
        assert "exit_before_tests" in o.flags, o


def test_candidate_exception_comes_back_as_a_builtin_exception(executor: Executor) -> None:
    code = "def parse(s):\n    raise ValueError('bad input')\n"
    check = (
        "def check(candidate):\n"
        "    try:\n"
        "        candidate('x')\n"
        "        assert False\n"
        "    except ValueError as e:\n"
        "        assert 'bad input' in str(e)\n"
    )
    o = run_one(executor, code, {"kind": "check", "check": check, "entry_point": "parse"})
    assert o.passed, o


def test_a_custom_exception_class_cannot_pose_as_the_expected_one(executor: Executor) -> None:
    code = "class ValueErrorX(Exception):\n    pass\ndef parse(s):\n    raise ValueErrorX('x')\n"
    check = (
        "def check(candidate):\n    try:\n        candidate('x')\n"
        "    except ValueError:\n        return\n    assert False\n"
    )
    o = run_one(executor, code, {"kind": "check", "check": check, "entry_point": "parse"})
    assert not o.passed


def test_unsupported_argument_is_flagged(executor: Executor) -> None:
    code = "def apply(f, x):\n    return f(x)\n"
    check = "def check(candidate):\n    assert candidate(lambda v: v + 1, 1) == 2\n"
    o = run_one(executor, code, {"kind": "check", "check": check, "entry_point": "apply"})
    assert not o.passed
    assert "unsupported_value" in o.flags
    assert "cannot be sent" in o.message


def test_a_helper_defined_by_the_candidate_is_proxied_and_flagged(executor: Executor) -> None:
    code = "def encode(s):\n    return s[::-1]\ndef decode(s):\n    return s[::-1]\n"
    check = (
        "def check(candidate):\n"
        "    for w in ['abc', 'hello']:\n"
        "        assert candidate(encode(w)) == w\n"
    )
    o = run_one(executor, code, {"kind": "check", "check": check, "entry_point": "decode"})
    assert o.passed, o
    assert o.flags == ["test_uses_candidate_helper"]


def test_a_builtin_named_helper_cannot_decide_the_test(executor: Executor) -> None:
    # `len` defined by the candidate must not be what the test calls.
    code = "def len(x):\n    return 3\ndef make(n):\n    return [0] * n\n"
    o = run_one(executor, code, {"kind": "asserts", "asserts": ["assert len(make(5)) == 3"]})
    assert not o.passed


def test_in_place_mutation_is_seen_by_the_test(executor: Executor) -> None:
    code = "def sort_in_place(xs):\n    xs.sort()\n"
    o = run_one(
        executor,
        code,
        {
            "kind": "asserts",
            "setup": "data = [3, 1, 2]",
            "asserts": ["sort_in_place(data)\nassert data == [1, 2, 3]"],
        },
    )
    assert o.passed, o


def test_check_partial_credit_counts_asserts(executor: Executor) -> None:
    check = (
        "def check(candidate):\n"
        "    assert candidate(1) == 1\n"
        "    assert candidate(2) == 4\n"
        "    for x in range(3, 6):\n"
        "        assert candidate(x) == x * x\n"
    )
    o = run_one(
        executor,
        "def sq(x):\n    return x * x if x < 4 else 0\n",
        {"kind": "check", "check": check, "entry_point": "sq"},
    )
    assert (o.status, o.tests_passed, o.tests_total) == ("failed", 2, 3)
    assert o.failure is not None
    assert o.failure["line"] == 5


def test_garbage_written_into_the_channel_fails_the_job_cleanly(executor: Executor) -> None:
    code = "import os\ndef add(a, b):\n    os.write(3, b'\\xff' * 64)\n    return a + b\n"
    o = run_one(executor, code, TESTS["check"])
    assert not o.passed
    assert o.status == "failed", o
    assert "channel_corrupted" in o.flags
