"""Inputs for behaviour clustering, taken only from what a selector may see.

Function problems: calls of the entry point found in the public tests and in the prompt's
examples (`>>> f(1, 2)` or `f(1, 2) == 3` in the docstring), plus generated neighbours of each
(every int literal +1, every string reversed, every list reversed). The hidden tests are never
read. stdin/stdout problems: the public test inputs.

A probe program is the candidate program followed by a trusted loop that prints the repr of
each call (or the exception's name) after a marker; the sandbox's stdout tail carries it back.
"""

from __future__ import annotations

import ast
import copy
import json

from rlaif_tui.data import AssertsTests, CheckTests, IoTests, Problem

MARKER = "\x1e"
MAX_PROBES = 12


def _calls_in(source: str, name: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _calls_in_text(text: str, name: str) -> list[str]:
    """Entry-point calls written in prose or doctests: the balanced `name(...)` spans."""
    out = []
    start = text.find(name + "(")
    while start != -1:
        depth, end = 0, None
        for i in range(start + len(name), len(text)):
            if text[i] in "([{":
                depth += 1
            elif text[i] in ")]}":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        if end is not None:
            out += _calls_in(text[start:end], name)
        start = text.find(name + "(", start + 1)
    return out


class _Neighbour(ast.NodeTransformer):
    """Shift one literal: ints +1, strings and lists reversed."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = -1
        self.changed = False

    def _hit(self) -> bool:
        self.seen += 1
        return self.seen == self.target

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bool):
            return node
        if isinstance(node.value, int) and self._hit():
            self.changed = True
            return ast.Constant(node.value + 1)
        if isinstance(node.value, str) and len(node.value) > 1 and self._hit():
            self.changed = True
            return ast.Constant(node.value[::-1])
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        if len(node.elts) > 1 and self._hit():
            self.changed = True
            return ast.List(elts=list(reversed(node.elts)), ctx=node.ctx)
        return self.generic_visit(node)


def _neighbours(call: str) -> list[str]:
    out = []
    tree = ast.parse(call, mode="eval")
    for target in range(6):
        shifter = _Neighbour(target)
        changed = shifter.visit(copy.deepcopy(tree))
        if not shifter.changed:
            break
        out.append(ast.unparse(ast.fix_missing_locations(changed)))
    return out


def function_probes(problem: Problem) -> list[str]:
    """Call expressions of `problem.entry_point` (seen ones first, then generated)."""
    name = problem.entry_point
    if name is None:
        return []
    seen: list[str] = []
    public = problem.public_tests
    if isinstance(public, AssertsTests):
        for line in public.asserts:
            seen += _calls_in(line, name)
    elif isinstance(public, CheckTests):
        seen += [
            c.replace("candidate(", name + "(", 1) for c in _calls_in(public.check, "candidate")
        ]
    seen += _calls_in_text(problem.prompt, name)
    seen = list(dict.fromkeys(seen))
    generated = [n for call in seen for n in _neighbours(call)]
    return list(dict.fromkeys(seen + generated))[:MAX_PROBES]


def probe_program(program: str, calls: list[str]) -> str:
    """`program` plus a trusted loop printing each call's repr (or exception name)."""
    return (
        program
        + "\n\ndef _rlaif_probe():\n"
        + f"    print({MARKER!r}, end='')\n"
        + f"    for _src in {json.dumps(calls)}:\n"
        + "        try:\n"
        + "            _out = repr(eval(_src))[:200]\n"
        + "        except BaseException as _exc:\n"
        + "            _out = '!' + type(_exc).__name__\n"
        + "        print(_out)\n"
        + "_rlaif_probe()\n"
    )


def io_inputs(problem: Problem) -> list[str]:
    public = problem.public_tests
    return [c.stdin for c in public.cases][:MAX_PROBES] if isinstance(public, IoTests) else []


def behaviour(outcome: dict[str, object]) -> str:
    """What a probe run printed after the marker (or how it ended, when it did not finish)."""
    tail = str(outcome.get("stdout_tail") or "")
    if MARKER in tail and outcome.get("status") == "passed":
        return tail.rsplit(MARKER, 1)[1]
    return f"!{outcome.get('status')}"
