"""Run one job's tests in the harness, against proxies into the sandboxed child.

Partial credit (`tests_passed` / `tests_total`):
- `asserts`: each assert statement is one test; all of them run, whatever failed before.
- `check`: each `assert` statement in the check source is one test (counted statically: an
  assert inside a loop is one test, passed only if every iteration held). Asserts are rewritten
  so a failure is recorded and the function goes on; an exception outside any assert stops the
  check, and the asserts it never reached count as failed.
- `io`: each case is one test. The program runs as `__main__` with the case's stdin; its stdout
  and the expected stdout are compared after whitespace normalisation: leading and trailing
  blank lines dropped, each line stripped and its runs of spaces/tabs collapsed to one space.
  An uncaught exception (or a non-zero `sys.exit`) fails the case. The expected stdout never
  leaves the harness.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
from collections.abc import Callable
from typing import Any

from rlaif_tui.sandbox.instrument import (
    BUILTINS,
    RECORD,
    free_names,
    instrument_check,
    test_modules,
)
from rlaif_tui.sandbox.session import ChannelCorrupted, ChildDied, Proxy, Session

Verdict = dict[str, Any]


class InvalidTests(Exception):
    """The job's tests cannot be run (missing field, test code that does not parse)."""


def harness_fault(session: Session, exc: BaseException) -> bool:
    """A MemoryError raised here, not rebuilt from the child: a test exploded a value the
    candidate returned inside the harness. Not one failed assert: the whole job ends
    (`harness.run_job` makes it the candidate's `memory`)."""
    return isinstance(exc, MemoryError) and not session.memory_error


def normalise(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def _failure(test: int, exc: BaseException | None, line: int | None, what: str) -> dict[str, Any]:
    if exc is None:
        return {"test": test, "type": "AssertionError", "message": what, "line": line}
    message = str(exc)[:500] if not isinstance(exc, AssertionError) or str(exc) else what
    return {"test": test, "type": type(exc).__name__, "message": message, "line": line}


def _load_failed(info: dict[str, Any], total: int) -> Verdict:
    kind = str(info.get("type", "Exception"))
    msg = str(info.get("message", ""))[:500]
    line = info.get("line") if type(info.get("line")) is int else None
    where = f" (line {line})" if line else ""
    return {
        "status": "memory" if kind == "MemoryError" else "error",
        "tests_passed": 0,
        "tests_total": total,
        "message": f"the program failed to load{where}: {kind}: {msg}",
        "failure": {"test": -1, "type": kind, "message": msg, "line": line},
        "flags": ["exit_before_tests"] if kind == "SystemExit" else [],
    }


def _load(session: Session, code: str, mode: str, total: int) -> Verdict | None:
    """Load the candidate into its child; a verdict if that already decided the job."""
    try:
        err = session.load(code, mode)
    except ChannelCorrupted as exc:
        # Garbage (or a forged frame) written to the channel while loading: the candidate's
        # failure, graded like a crash at import time, never "not graded".
        return {
            "status": "error",
            "tests_passed": 0,
            "tests_total": total,
            "message": f"the program failed to load: {exc}",
            "failure": {"test": -1, "type": "ChannelCorrupted", "message": str(exc), "line": None},
            "flags": ["channel_corrupted"],
        }
    except ChildDied:
        # The lane reads the child's exit status and says how it ended.
        return {
            "status": "error",
            "tests_passed": 0,
            "tests_total": total,
            "message": "the program's process ended while loading",
        }
    return None if err is None else _load_failed(err, total)


def namespace(
    session: Session, free: frozenset[str], shadow_ok: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], set[str]]:
    """Globals for test code: builtins, plus what the tests take from the candidate - proxies
    for its functions, stdlib modules (see `test_modules`) and its plain values (decoded).

    A candidate name never shadows a builtin (a candidate defining `len` must not decide what
    `len(candidate(x))` is), except names in `shadow_ok`: the function under test itself when
    that is the only candidate name the tests use (MBPP/126 asks for a function called `sum`).
    """
    ns: dict[str, Any] = {"__name__": "__test__", "__builtins__": builtins}
    helpers = set()
    modules = test_modules(free)
    for name in sorted(free):
        kind = session.names.get(name)
        if kind is None or (name in BUILTINS and name not in shadow_ok):
            continue
        if kind.startswith("module:"):
            # The test's own name decides the module (a stdlib module the test text reads);
            # the child's answer only says the program bound a module there, so a test using
            # `math` the program never imported still fails. Any other module is left out.
            if name in modules:
                ns[name] = importlib.import_module(name)
        elif kind == "callable":
            ns[name] = Proxy(session, name)
            helpers.add(name)
        elif kind == "value":
            with contextlib.suppress(Exception):
                ns[name] = session.get(name)
    return ns, helpers


@functools.lru_cache(maxsize=4096)
def _compile(src: str, name: str) -> Any:
    try:
        return compile(src, name, "exec")
    except SyntaxError as exc:
        raise InvalidTests(f"{name} does not parse: {exc.msg} (line {exc.lineno})") from None


def run_asserts(session: Session, job: dict[str, Any], limit: int) -> Verdict:
    tests = job["tests"]
    asserts = tests.get("asserts")
    setup = tests.get("setup") or ""
    if (
        type(asserts) is not list
        or not all(type(a) is str for a in asserts)
        or type(setup) is not str
    ):
        raise InvalidTests("tests.asserts must be a list of strings, tests.setup a string")
    codes = [_compile(a, f"<test {i}>") for i, a in enumerate(asserts)]
    setup_code = _compile(setup, "<setup>")
    total = len(asserts)
    failed = _load(session, job["code"], "module", total)
    if failed is not None:
        return failed
    free = free_names((setup, *asserts))
    used = frozenset(n for n in free if session.names.get(n) == "callable")
    shadow_ok = used & BUILTINS if len(used) == 1 else frozenset()
    ns, _ = namespace(session, free, shadow_ok)
    first = None
    passed = 0
    try:
        exec(setup_code, ns)
    except Exception as exc:
        return {
            "status": "failed",
            "tests_passed": 0,
            "tests_total": total,
            "message": f"test setup failed: {type(exc).__name__}: {str(exc)[:300]}",
            "failure": _failure(-1, exc, None, "setup failed"),
        }
    for i, code in enumerate(codes):
        try:
            exec(code, ns)
            passed += 1
        except Exception as exc:
            if harness_fault(session, exc):
                raise
            if first is None:
                first = _failure(i, exc, 1, f"assertion failed: {asserts[i][:300]}")
    return _tally(passed, total, first)


def run_check(session: Session, job: dict[str, Any], limit: int) -> Verdict:
    tests = job["tests"]
    src, entry = tests.get("check"), tests.get("entry_point")
    if type(src) is not str or type(entry) is not str or not entry.isidentifier():
        raise InvalidTests("tests.check must be source text and tests.entry_point an identifier")
    try:
        code, lines, sources = instrument_check(src)
    except SyntaxError as exc:
        raise InvalidTests(
            f"the check function does not parse: {exc.msg} (line {exc.lineno})"
        ) from None
    total = max(len(lines), 1)
    failed = _load(session, job["code"], "module", total)
    if failed is not None:
        return failed
    if session.names.get(entry) != "callable":
        return {
            "status": "failed",
            "tests_passed": 0,
            "tests_total": total,
            "message": f"the program does not define the function {entry}",
            "failure": {"test": 0, "type": "NameError", "message": entry, "line": None},
        }
    ns, helpers = namespace(session, free_names((src,)))
    flags = ["test_uses_candidate_helper"] if helpers - {entry} else []
    results: dict[int, bool] = {}
    first: dict[str, Any] | None = None

    def record(index: int, value: Any, exc: BaseException | None) -> None:
        nonlocal first
        if exc is not None and harness_fault(session, exc):
            raise exc
        try:
            ok = exc is None and bool(value)
        except Exception:
            ok = False
        results[index] = results.get(index, True) and ok
        if not ok and first is None:
            first = _failure(index, exc, lines[index], f"assertion failed: {sources[index]}")

    ns[RECORD] = record
    outer: BaseException | None = None
    try:
        exec(code, ns)
        check = ns.get("check")
        if not callable(check):
            raise InvalidTests("the check source does not define check(candidate)")
        check(Proxy(session, entry))
    except InvalidTests:
        raise
    except Exception as exc:
        if harness_fault(session, exc):
            raise
        outer = exc
    if outer is None:
        # check() returned: an assert control flow skipped (e.g. `assert False` after a call
        # expected to raise) is not a failure.
        passed = len(lines) - sum(1 for ok in results.values() if not ok)
    else:
        passed = sum(1 for ok in results.values() if ok)
    if not lines:
        passed = 1 if outer is None else 0
    if outer is not None and first is None:
        reached = next((i for i in range(len(lines)) if i not in results), 0)
        first = _failure(reached, outer, None, "check raised")
    verdict = _tally(passed, total, first)
    if outer is not None:
        verdict["status"] = "failed"
    verdict["flags"] = flags
    return verdict


def run_io(session: Session, job: dict[str, Any], limit: int) -> Verdict:
    cases = job["tests"].get("cases")
    if type(cases) is not list or not all(
        type(c) is dict and type(c.get("stdin")) is str and type(c.get("stdout")) is str
        for c in cases
    ):
        raise InvalidTests("tests.cases must be a list of {stdin, stdout} strings")
    total = len(cases)
    failed = _load(session, job["code"], "main", total)
    if failed is not None:
        return failed
    passed = 0
    first = None
    for i, case in enumerate(cases):
        try:
            reply = session.run_main(case["stdin"], limit)
        except Exception as exc:
            if first is None:
                first = _failure(i, exc, None, "the program stopped")
            continue
        exc_info = reply.get("exc")
        if exc_info is not None:
            if first is None:
                info = exc_info if type(exc_info) is dict else {}
                line = info.get("line") if type(info.get("line")) is int else None
                first = {
                    "test": i,
                    "type": str(info.get("type", "Exception"))[:100],
                    "message": str(info.get("message", ""))[:500],
                    "line": line,
                }
            continue
        if normalise(reply["stdout"]) == normalise(case["stdout"]):
            passed += 1
        elif first is None:
            got = normalise(reply["stdout"]).split("\n")
            want = normalise(case["stdout"]).split("\n")
            at = next(
                (j for j, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                min(len(got), len(want)),
            )
            note = " (output was truncated)" if reply.get("truncated") else ""
            first = {
                "test": i,
                "type": "WrongAnswer",
                "message": f"case {i}: output differs from the expected output "
                f"at line {at + 1}{note}",
                "line": None,
            }
    return _tally(passed, total, first)


def _tally(passed: int, total: int, first: dict[str, Any] | None) -> Verdict:
    ok = passed == total and first is None
    message = "" if ok else f"{passed}/{total} tests passed"
    if first is not None and not ok:
        message += f"; first failure: test {first['test']}: {first['type']}: {first['message']}"[
            :600
        ]
    return {
        "status": "passed" if ok else "failed",
        "tests_passed": passed,
        "tests_total": total,
        "message": message,
        "failure": None if ok else first,
    }


RUNNERS: dict[str, Callable[[Session, dict[str, Any], int], Verdict]] = {
    "asserts": run_asserts,
    "check": run_check,
    "io": run_io,
}
