"""A judge on its own event-loop thread, for the synchronous trainer.

`submit(items)` returns a `concurrent.futures.Future` at once; the trainer waits on it after
its forwards. The batch has a deadline (`limits.batch_timeout_s`): whatever is unfinished then
is cancelled and gets `None`, so a hung judge costs a step at most that long.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge.client import JudgeClient
from rlaif_tui.feedback.judge.rubric import Judgement


@dataclass(frozen=True)
class JudgeItem:
    prompt: str
    completion: str
    group: str = ""
    """Items sharing a group (the same prompt) are judged together in `group` mode."""


class BackgroundJudge:
    def __init__(
        self,
        cfg: JudgeConfig,
        *,
        env: Mapping[str, str] | None = None,
        log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="rlaif-judge", daemon=True
        )
        self._thread.start()
        self.client: JudgeClient = self.run(self._make(cfg, env, log)).result()

    @staticmethod
    async def _make(
        cfg: JudgeConfig,
        env: Mapping[str, str] | None,
        log: Callable[[str, str], None] | None,
    ) -> JudgeClient:
        return JudgeClient(cfg, env=env, log=log)  # built on the loop that will use it

    def run(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def submit(self, items: Sequence[JudgeItem]) -> Future[list[Judgement | None]]:
        fut: Future[list[Judgement | None]] = self.run(self._judge_all(list(items)))
        return fut

    async def _judge_all(self, items: list[JudgeItem]) -> list[Judgement | None]:
        out: list[Judgement | None] = [None] * len(items)
        tasks: dict[asyncio.Task[Any], list[int]] = {}
        if self.cfg.mode == "group":
            groups: dict[str, list[int]] = {}
            for i, item in enumerate(items):
                groups.setdefault(item.group or item.prompt, []).append(i)
            for idx in groups.values():
                coro = self.client.judge_group(
                    items[idx[0]].prompt, [items[i].completion for i in idx]
                )
                tasks[asyncio.ensure_future(coro)] = idx
        else:
            for i, item in enumerate(items):
                tasks[asyncio.ensure_future(self.client.judge(item.prompt, item.completion))] = [i]
        if not tasks:
            return out
        done, pending = await asyncio.wait(tasks, timeout=self.cfg.limits.batch_timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            missed = sum(len(tasks[t]) for t in pending)
            self.client.fault(
                "deadline_missed",
                f"{missed} judgements unfinished after {self.cfg.limits.batch_timeout_s:g} s",
            )
        for task in done:
            result = task.result()
            values = result if isinstance(result, list) else [result]
            for i, value in zip(tasks[task], values, strict=True):
                out[i] = value
        return out

    def metrics(self) -> dict[str, float]:
        client: JudgeClient = self.client
        return client.meter.drain("judge")

    def close(self) -> None:
        if not self.loop.is_running():
            return
        self.run(self.client.close()).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
