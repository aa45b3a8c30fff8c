"""Python face of the reward core: the sandboxed `Executor`, `Job` and `Outcome`."""

from rlaif_tui.reward.executor import Executor
from rlaif_tui.reward.job import Job, JobError, validate_tests
from rlaif_tui.reward.outcome import STATUSES, Outcome, Status

__all__ = ["STATUSES", "Executor", "Job", "JobError", "Outcome", "Status", "validate_tests"]
