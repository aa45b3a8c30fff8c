"""The daemon's wire protocol: models shared by `rlaif daemon` and `rlaif-tui`, and the client.

This package must stay importable without torch or textual: the TUI is a light client.
"""

from rlaif_tui.api.client import ApiError, DaemonClient
from rlaif_tui.api.models import (
    EVENT_VERSION,
    ControlAction,
    ErrorBody,
    Event,
    EventType,
    Progress,
    Rating,
    RatingIn,
    RunState,
    Settings,
    SettingsPatch,
    Status,
)

__all__ = [
    "EVENT_VERSION",
    "ApiError",
    "ControlAction",
    "DaemonClient",
    "ErrorBody",
    "Event",
    "EventType",
    "Progress",
    "Rating",
    "RatingIn",
    "RunState",
    "Settings",
    "SettingsPatch",
    "Status",
]
