"""Prompts in, programs out: what the policy sees and what the sandbox runs.

Only `public_tests` can reach a prompt; a problem's hidden `tests` are used by the execution
reward alone (test leakage would reward memorising the tests).
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from rlaif_tui.data import AssertsTests, Problem

FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)(?:```|$)", re.DOTALL)
CHAT_INSTRUCTION = (
    "Complete the following Python function. Answer with the whole function in one "
    "```python code block.\n\n"
)


def parse_quietly(code: str) -> ast.Module | None:
    """The syntax tree of generated code, or None if it does not parse (a NUL byte included);
    its warnings (e.g. SyntaxWarning for an odd escape) are not shown."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def public_examples(problem: Problem) -> str:
    """The public tests as comment lines (empty when the problem has none to show)."""
    tests = problem.public_tests
    if isinstance(tests, AssertsTests):
        return "".join(f"# {line}\n" for line in tests.asserts)
    return ""


def prompt_text(problem: Problem, *, show_public_tests: bool = False) -> str:
    """The raw completion prompt for `problem` (never includes the hidden tests)."""
    head = public_examples(problem) if show_public_tests else ""
    return head + problem.prompt


def chat_messages(problem: Problem, *, show_public_tests: bool = False) -> list[dict[str, str]]:
    body = prompt_text(problem, show_public_tests=show_public_tests)
    return [{"role": "user", "content": CHAT_INSTRUCTION + "```python\n" + body + "```"}]


def extract_code(completion: str) -> str:
    """The code in a chat answer: the first fenced block, else the text itself."""
    match = FENCE.search(completion)
    return match.group(1) if match else completion


def to_program(problem: Problem, completion: str, *, chat: bool) -> str:
    """The program the sandbox runs: the problem's program around the completion (prompt +
    completion for function problems, see `Problem.program`), or the answer's own code when a
    chat model wrote the whole function."""
    if not chat:
        return problem.program(completion)
    code = extract_code(completion)
    if problem.entry_point and re.search(
        rf"^\s*def {re.escape(problem.entry_point)}\b", code, re.MULTILINE
    ):
        return code
    return problem.program(code)


def encode_prompt(
    tokenizer: Any,
    problem: Problem,
    *,
    chat: bool,
    show_public_tests: bool = False,
    append_eos: bool = False,
) -> tuple[str, list[int]]:
    """The prompt text the policy sees and its token ids (chat template or raw completion)."""
    if chat:
        ids = tokenizer.apply_chat_template(
            chat_messages(problem, show_public_tests=show_public_tests),
            add_generation_prompt=True,
            tokenize=True,
        )
        if not isinstance(ids, list):
            ids = list(ids["input_ids"])
        return str(tokenizer.decode(ids)), [int(i) for i in ids]
    text = prompt_text(problem, show_public_tests=show_public_tests)
    ids = list(tokenizer(text, add_special_tokens=False).input_ids)
    if append_eos:
        ids.append(int(tokenizer.eos_token_id))
    return text, ids
