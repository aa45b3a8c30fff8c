"""The judge's config section (`reward.judge` in a training config).

Pydantic only, so the daemon and the CLI can validate it without aiohttp or torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_CRITERIA = {
    "correctness": "Does the code do what the prompt asks, including edge cases?",
    "readability": "Clear names, simple structure, no dead code.",
    "efficiency": "No needless work; a sensible algorithm for the task.",
    "safety": "No file, network, process or interpreter tricks; nothing that games tests.",
}

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class RubricConfig(_Section):
    criteria: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CRITERIA), min_length=1)
    """Criterion name -> what the judge should look for. The judge scores each one."""
    weights: dict[str, float] = Field(default_factory=dict)
    """Weight of each criterion in the judge's reward (missing: 1.0)."""
    scale: tuple[int, int] = (1, 10)
    """Lowest and highest score the judge may give; mapped to 0..1."""
    instructions: str = (
        "You are a strict reviewer of Python code written by a student model. "
        "Score the candidate on each criterion."
    )
    """The opening of the system prompt; the criteria and the answer format follow it."""

    @model_validator(mode="after")
    def _check(self) -> RubricConfig:
        lo, hi = self.scale
        if lo >= hi:
            raise ValueError(f"scale {self.scale}: the first number must be below the second")
        unknown = sorted(set(self.weights) - set(self.criteria))
        if unknown:
            raise ValueError(
                f"weights name unknown criteria {unknown}; known: {list(self.criteria)}"
            )
        if self.weights and not any(self.weights.get(c, 1.0) > 0 for c in self.criteria):
            raise ValueError("weights: at least one criterion needs a positive weight")
        return self


class LimitsConfig(_Section):
    max_concurrency: int = Field(8, ge=1)
    """Requests in flight at once."""
    requests_per_minute: int | None = Field(None, ge=1)
    """Client-side request budget per rolling minute (None: unlimited)."""
    tokens_per_minute: int | None = Field(None, ge=1)
    """Client-side token budget per rolling minute (estimated before, corrected after)."""
    timeout_s: float = Field(60.0, gt=0)
    """Wall-clock limit of one HTTP request."""
    max_retries: int = Field(4, ge=0)
    """Retries after a 429, a 5xx, a timeout, a dropped connection or a malformed body."""
    backoff_s: float = Field(1.0, gt=0)
    """First retry delay; doubled each retry with +-25% jitter."""
    max_backoff_s: float = Field(30.0, gt=0)
    """Longest single wait, including one asked for by a Retry-After header."""
    batch_timeout_s: float = Field(300.0, gt=0)
    """Longest a training step waits for the judge; unfinished samples go on without it."""


class JudgeConfig(_Section):
    provider: Literal["openai", "anthropic", "local"] = "openai"
    """`openai`: the chat-completions API (also vLLM, llama.cpp, Ollama); `anthropic`: the
    messages API; `local`: a Hugging Face causal LM scoring by a verdict token."""
    model: str = "gpt-4o-mini"
    """Model name sent to the API, or a local path / hub name for `local`."""
    base_url: str | None = None
    """API root, e.g. http://127.0.0.1:8000/v1 for vLLM (default: the provider's)."""
    api_key_env: str | None = None
    """Environment variable holding the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY for
    the public APIs; none for other base URLs)."""
    anthropic_version: str = "2023-06-01"
    """The `anthropic-version` header."""
    max_tokens: int = Field(256, ge=1)
    """Longest judge answer."""
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """OpenAI field naming the answer limit (newer OpenAI models need `max_completion_tokens`)."""
    temperature: float = Field(0.0, ge=0)
    mode: Literal["pointwise", "group"] = "pointwise"
    """`pointwise`: each completion on its own; `group`: a prompt's whole group in one request,
    scored relative to each other."""
    rubric: RubricConfig = Field(default_factory=RubricConfig)
    limits: LimitsConfig = Field(default_factory=lambda: LimitsConfig.model_validate({}))
    price_input_per_mtok: float = Field(0.0, ge=0)
    """USD per million input tokens, for `judge/cost_usd`."""
    price_output_per_mtok: float = Field(0.0, ge=0)
    """USD per million output tokens."""
    cache_entries: int = Field(50_000, ge=0)
    """Judgements kept in memory, keyed on (model, rubric, prompt, completion); 0: no cache."""
    max_code_chars: int = Field(6000, ge=100)
    """Longer completions are cut to this many characters before judging."""
    verdict_tokens: tuple[str, str] = (" Yes", " No")
    """`local`: the good and bad verdict strings; the score is P(good) / (P(good) + P(bad))."""
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    """`local`: where the judge model runs."""

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return DEFAULT_BASE_URLS.get(self.provider, "")

    def resolved_key_env(self) -> str | None:
        if self.api_key_env is not None:
            return self.api_key_env or None
        if self.base_url is None and self.provider == "openai":
            return "OPENAI_API_KEY"
        if self.base_url is None and self.provider == "anthropic":
            return "ANTHROPIC_API_KEY"
        return None
