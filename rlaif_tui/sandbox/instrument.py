"""Static analysis of test code: which names it takes from the candidate, and the rewrite that
counts each `assert` of a HumanEval `check` function as one test (partial credit)."""

from __future__ import annotations

import ast
import builtins
import functools
import sys
from typing import Any

RECORD = "__rlaif_record__"
BUILTINS = frozenset(dir(builtins))


@functools.lru_cache(maxsize=2048)
def free_names(sources: tuple[str, ...]) -> frozenset[str]:
    """Names the test code reads but never binds, builtins included. (Cached: the same tests
    come back for every completion of a problem.)"""
    loaded: set[str] = set()
    bound: set[str] = set()
    for src in sources:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name):
                (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
                if not isinstance(node, ast.ClassDef):
                    a = node.args
                    for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                        if arg is not None:
                            bound.add(arg.arg)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    bound.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
    return frozenset(loaded - bound)


def test_modules(free: frozenset[str]) -> frozenset[str]:
    """The stdlib modules the harness may import for test code: top-level names the test source
    itself reads (`math.isclose(...)` after the program's `import math`). Decided from the
    trusted test text only - never from what the candidate's child says its names are, so a
    candidate cannot make the harness import (and run) a module of its choosing."""
    return frozenset(n for n in free if n in sys.stdlib_module_names and n not in NEVER_IMPORTED)


# Stdlib modules that act when imported; a test never needs them as a value.
NEVER_IMPORTED = frozenset({"antigravity", "this", "idlelib", "turtledemo", "tkinter", "__main__"})


class _AssertCounter(ast.NodeTransformer):
    """`assert test, msg` -> evaluate `test`, record (index, outcome); never raise."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.sources: list[str] = []

    def visit_Assert(self, node: ast.Assert) -> Any:
        index = len(self.lines)
        self.lines.append(node.lineno)
        self.sources.append(ast.unparse(node.test)[:300])
        value = "__rlaif_value__"
        err = "__rlaif_exc__"
        tmpl = ast.parse(
            f"try:\n    {value} = 0\n"
            f"except Exception as {err}:\n    {RECORD}({index}, False, {err})\n"
            f"else:\n    {RECORD}({index}, {value}, None)\n"
        ).body[0]
        assert isinstance(tmpl, ast.Try)
        assign = tmpl.body[0]
        assert isinstance(assign, ast.Assign)
        assign.value = node.test
        return ast.copy_location(tmpl, node)


@functools.lru_cache(maxsize=1024)
def instrument_check(source: str) -> tuple[Any, list[int], list[str]]:
    """Compile a `check` source with every assert counted.

    Returns the code object, each assert's line, and each assert's condition as text.
    """
    tree = ast.parse(source)
    counter = _AssertCounter()
    tree = counter.visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, "<check>", "exec"), counter.lines, counter.sources
