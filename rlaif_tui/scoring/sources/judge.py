"""Judge reward: an AI judge's rubric score in [0, 1] (RLAIF).

HTTP judges (OpenAI chat-completions or Anthropic messages API) run on their own event loop
with a batch deadline; the local judge (a causal LM's verdict-token probability) runs on a
worker thread. Any judge fault gives `None` for the samples it hit: mixing drops the judge term
for them and renormalises the other weights, and `judge/failures`, `judge/unparseable` and
`judge/coverage` show it in the metrics. A judge fault never stops training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore, chain


class JudgeSource(SourceBase):
    name = "judge"

    def __init__(
        self,
        cfg: JudgeConfig,
        *,
        log: Callable[[str, str], None] | None = None,
        env: Any = None,
    ) -> None:
        self.cfg = cfg
        self._log = log
        self._coverage: list[float] = []
        self._pool: ThreadPoolExecutor | None = None
        if cfg.provider == "local":
            from rlaif_tui.feedback.judge.local import LocalJudge

            self.local: Any = LocalJudge.from_config(cfg)
            self.remote: Any = None
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rlaif-judge")
        else:
            from rlaif_tui.feedback.judge.background import BackgroundJudge

            self.local = None
            self.remote = BackgroundJudge(cfg, env=env, log=log)

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        if self.local is not None:
            assert self._pool is not None
            fut: Future[list[float | None]] = self._pool.submit(self._local, list(requests))
            return chain(fut, self._scores)
        from rlaif_tui.feedback.judge.background import JudgeItem

        items = [
            JudgeItem(r.prompt, r.completion, group=f"{r.problem.id}\x00{r.prompt}")
            for r in requests
        ]
        return chain(
            self.remote.submit(items),
            lambda js: self._scores([None if j is None else j.score for j in js]),
        )

    def _local(self, requests: list[ScoreRequest]) -> list[float | None]:
        try:
            got: list[float] = self.local.score(
                [r.prompt for r in requests], [r.completion for r in requests]
            )
        except Exception as exc:  # a broken local judge must not stop training
            self.local.meter.add("failures", len(requests))
            if self._log is not None:
                self._log("warning", f"judge: local judge failed: {exc}")
            return [None] * len(requests)
        return list(got)

    def _scores(self, values: list[float | None]) -> list[SourceScore]:
        if values:
            self._coverage.append(sum(v is not None for v in values) / len(values))
        return [SourceScore(value=v) for v in values]

    def metrics(self) -> dict[str, float]:
        out = self.remote.metrics() if self.remote is not None else self.local.meter.drain("judge")
        if self._coverage:
            out["judge/coverage"] = sum(self._coverage) / len(self._coverage)
            self._coverage.clear()
        return dict(out)

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
