"""Style reward: syntax valid, pyflakes findings and length (`feedback.style`); no sandbox."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from rlaif_tui.config.feedback import StyleConfig
from rlaif_tui.feedback.style import style_report
from rlaif_tui.scoring.sources.base import ScoreRequest, SourceBase, SourceScore


class StyleSource(SourceBase):
    name = "style"

    def __init__(self, cfg: StyleConfig) -> None:
        self.cfg = cfg
        self._findings: list[int] = []

    def submit(self, requests: Sequence[ScoreRequest]) -> Future[list[SourceScore]]:
        out = []
        for r in requests:
            report = style_report(r.program, r.completion, self.cfg)
            self._findings.append(len(report.findings))
            out.append(SourceScore(report.score))
        fut: Future[list[SourceScore]] = Future()
        fut.set_result(out)
        return fut

    def metrics(self) -> dict[str, float]:
        if not self._findings:
            return {}
        out = {"style/lint_findings": sum(self._findings) / len(self._findings)}
        self._findings.clear()
        return out

    def close(self) -> None:
        pass
