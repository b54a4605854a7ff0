"""Product analytics events (#1631-#1633): what the apps report, and who it is attributed to.

Events leave the gateway in batches, off the request path (ports/analytics.py); this module holds
the event itself, the seed's attribution rules and the bounds that keep a public route cheap."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

ANONYMOUS = "anonymous"
EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:$ -]{1,128}$")
MAX_METADATA_BYTES = 8 * 1024
MAX_BATCH = 100
SESSION_START = "session_start"


class AnalyticsEvent(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    distinct_id: str
    value: str | int | float | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    timestamp: datetime


def single_event_id(caller_user_id: int | None, body_user_id: str | None) -> str:
    """#1631: the authenticated caller wins over the body's `user_id`."""
    if caller_user_id is not None:
        return str(caller_user_id)
    return body_user_id or ANONYMOUS


def batch_event_id(caller_user_id: int | None, body_user_id: str | None) -> str:
    """#1632: the event's own `user_id` wins, so one backend key can report for many users (the
    seed's precedence, reversed from #1631 on purpose)."""
    if body_user_id:
        return body_user_id
    return str(caller_user_id) if caller_user_id is not None else ANONYMOUS


def session_properties(platform: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """#1633: `{"platform": ...}` updated with the metadata, so a metadata `platform` wins (the
    seed's dict merge)."""
    return {"platform": platform, **metadata}
