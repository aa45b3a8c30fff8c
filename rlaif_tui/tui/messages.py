"""Messages that carry the results of the app's workers (the I/O) to its handlers (the UI).

None of these is `can_replace`: every frame, acknowledgement and failure is handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from rlaif_tui.api import ApiError, Event, Rating, Settings, Status
from rlaif_tui.tui.discover import Target


@dataclass
class EventReceived(Message):
    """One websocket frame from the daemon (or the replay feed)."""

    event: Event


@dataclass
class ConnectionChanged(Message):
    """`state` is one of connecting, connected, reconnecting, offline, unauthorized."""

    state: str
    detail: str = ""
    """Short, for the header: `retry in 2.0s (try 3)`."""
    error: str = ""
    """What went wrong, for the connection screen."""


@dataclass
class ControlAcknowledged(Message):
    action: str
    status: Status


@dataclass
class SettingsAcknowledged(Message):
    settings: Settings


@dataclass
class ActionFailed(Message):
    what: str
    error: ApiError


@dataclass
class RatingAcknowledged(Message):
    rating: Rating


@dataclass
class RatingRejected(Message):
    rating_id: str
    error: ApiError


@dataclass
class DemoStarted(Message):
    target: Target


@dataclass
class DemoFailed(Message):
    message: str


@dataclass
class ConfigLoaded(Message):
    """The run's config (`GET /api/config`): what ratings and pairs do in this run."""

    config: dict[str, Any]


@dataclass
class LandingUpdated(Message):
    """The daemon's record of a rated sample after its update (`GET /api/samples/{id}`)."""

    rating_id: str
    sample: dict[str, Any]
