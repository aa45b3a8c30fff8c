"""OpenAI chat-completions API (`POST {base}/chat/completions`), as served by OpenAI and by
OpenAI-compatible local servers (vLLM, llama.cpp's server, Ollama).

Request: `{"model", "messages": [{"role": "system"|"user", "content"}], "max_tokens",
"temperature"}` with `Authorization: Bearer <key>`. Response: `{"choices": [{"message":
{"role": "assistant", "content": str}, "finish_reason"}], "usage": {"prompt_tokens",
"completion_tokens", "total_tokens"}}`.
"""

from __future__ import annotations

from typing import Any

from rlaif_tui.config.judge import JudgeConfig
from rlaif_tui.feedback.judge.reply import JudgeMalformed, Reply


class OpenAIChat:
    name = "openai"

    def __init__(self, cfg: JudgeConfig, api_key: str | None) -> None:
        self.cfg = cfg
        self.url = cfg.resolved_base_url() + "/chat/completions"
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def body(self, system: str, user: str) -> dict[str, Any]:
        return {
            "model": self.cfg.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            self.cfg.max_tokens_field: self.cfg.max_tokens,
            "temperature": self.cfg.temperature,
        }

    def parse(self, data: Any) -> Reply:
        try:
            message = data["choices"][0]["message"]
            text = message.get("content")
            usage = data.get("usage") or {}
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise JudgeMalformed(f"not a chat completion: {str(data)[:200]}") from exc
        if not isinstance(text, str):
            raise JudgeMalformed(f"choices[0].message.content is {type(text).__name__}, not text")
        return Reply(
            text=text,
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
        )
