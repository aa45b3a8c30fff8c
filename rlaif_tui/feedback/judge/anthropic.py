"""Anthropic messages API (`POST {base}/v1/messages`).

Request: `{"model", "max_tokens", "system": str, "messages": [{"role": "user", "content"}],
"temperature"}` with headers `x-api-key` and `anthropic-version`. Response: `{"type":
"message", "content": [{"type": "text", "text": str}, ...], "stop_reason", "usage":
{"input_tokens", "output_tokens"}}`. Errors are `{"type": "error", "error": {"type",
"message"}}`; 429 (rate limit) and 529 (overloaded) are worth retrying.
"""

from __future__ import annotations

from typing import Any

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge.reply import JudgeMalformed, Reply


class AnthropicMessages:
    name = "anthropic"

    def __init__(self, cfg: JudgeConfig, api_key: str | None) -> None:
        self.cfg = cfg
        self.url = cfg.resolved_base_url() + "/v1/messages"
        self.headers = {
            "Content-Type": "application/json",
            "anthropic-version": cfg.anthropic_version,
        }
        if api_key:
            self.headers["x-api-key"] = api_key

    def body(self, system: str, user: str) -> dict[str, Any]:
        return {
            "model": self.cfg.model,
            "max_tokens": self.cfg.max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "temperature": self.cfg.temperature,
        }

    def parse(self, data: Any) -> Reply:
        try:
            blocks = data["content"]
            usage = data.get("usage") or {}
            texts = [b["text"] for b in blocks if b.get("type") == "text"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise JudgeMalformed(f"not a message: {str(data)[:200]}") from exc
        if not texts or not all(isinstance(t, str) for t in texts):
            raise JudgeMalformed("the message has no text content block")
        return Reply(
            text="".join(texts),
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
        )
