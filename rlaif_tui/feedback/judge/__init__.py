"""AI judges: HTTP clients for the OpenAI chat-completions and Anthropic messages APIs, a local
Hugging Face judge, the rubric prompt and its score parser, client-side limits and a meter."""

from rlaif_tui.config.judge import JudgeConfig, LimitsConfig, RubricConfig
from rlaif_tui.feedback.judge.reply import JudgeError, Reply
from rlaif_tui.feedback.judge.rubric import Judgement, UnparseableScore

__all__ = [
    "JudgeConfig",
    "JudgeError",
    "Judgement",
    "LimitsConfig",
    "Reply",
    "RubricConfig",
    "UnparseableScore",
]
