"""The teacher's solutions are kept only if they pass in the sandbox, then become pairs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feedback_helpers import needs_sandbox
from judge_server import JudgeServer

from rlaif_tui.config.feedback import TeacherConfig
from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.data import Problem
from rlaif_tui.feedback.judge.client import JudgeClient
from rlaif_tui.feedback.teacher import Teacher, completion_after_prompt

PROBLEMS = [
    Problem.model_validate(
        {
            "id": "t/0",
            "prompt": 'def compute(data):\n    """Return data sorted."""\n',
            "entry_point": "compute",
            "tests": {"kind": "asserts", "asserts": ["assert compute([3, 1, 2]) == [1, 2, 3]"]},
            "reference": "    return sorted(data)\n",
        }
    ),
    Problem.model_validate(
        {
            "id": "t/1",
            "prompt": 'def run(y):\n    """Return y plus 56."""\n',
            "entry_point": "run",
            "tests": {"kind": "asserts", "asserts": ["assert run(1) == 57"]},
        }
    ),
]


def by_prompt(user: str) -> str:
    """Right for the first problem, wrong for every other."""
    first = PROBLEMS[0]
    if first.prompt.splitlines()[0] in user:
        return first.prompt + (first.reference or "")
    name = PROBLEMS[1].entry_point
    return f"def {name}(*args):\n    return None\n"


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        srv.solve = by_prompt
        yield srv


def judge_cfg(server: JudgeServer) -> JudgeConfig:
    return JudgeConfig(
        base_url=server.openai_url, model="teacher", api_key_env="", price_input_per_mtok=1.0
    )


def test_completion_is_the_body_after_the_prompt() -> None:
    p = PROBLEMS[0]
    full = p.prompt + (p.reference or "")
    assert completion_after_prompt(p, full) == p.reference
    rewritten = f'def {p.entry_point}(data):\n    """Other docs."""\n    x = 1\n    return x\n'
    assert completion_after_prompt(p, rewritten) == "    x = 1\n    return x\n"
    assert completion_after_prompt(p, "def other():\n    pass\n") is None


@needs_sandbox
async def test_only_passing_solutions_are_kept(server: JudgeServer) -> None:
    from rlaif_tui.reward import Executor

    with Executor(workers=1) as ex:
        async with JudgeClient(judge_cfg(server)) as client:
            teacher = Teacher(TeacherConfig(enabled=True, solutions_per_problem=1), client, ex.run)
            kept = await teacher.solve(PROBLEMS)
            m = teacher.metrics()
    assert kept == {PROBLEMS[0].id: [PROBLEMS[0].reference]}
    assert m["teacher/asked"] == 2
    assert m["teacher/passed"] == 1
    assert m["teacher/pass_rate"] == 0.5
    assert m["teacher/cost_usd"] > 0
    pairs = teacher.pairs(PROBLEMS[0], "P", ["    return 0\n"])
    assert [(p.chosen, p.rejected) for p in pairs] == [(PROBLEMS[0].reference, "    return 0\n")]
