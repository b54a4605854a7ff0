"""Wire shapes of the analytics event routes (#1631-#1633): the seed's fields, with bounds (the
routes are public, so every event is small and a batch is at most MAX_BATCH)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from adapters.http.codecs.openai import location
from domain.analytics import EVENT_NAME, MAX_BATCH, MAX_METADATA_BYTES
from domain.errors import InvalidInput

EventName = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=EVENT_NAME.pattern)]
DistinctId = Annotated[str, msgspec.Meta(max_length=256, pattern=r"^[^\x00]*$")]
EventValue = Annotated[str, msgspec.Meta(max_length=1024, pattern=r"^[^\x00]*$")] | int | float
Platform = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[^\x00]*$")]


class AnalyticsEventIn(msgspec.Struct, kw_only=True):
    event_name: EventName
    user_id: DistinctId | None = None
    value: EventValue | None = None
    metadata: dict[str, Any] | None = None


AnalyticsBatchIn = Annotated[list[AnalyticsEventIn], msgspec.Meta(max_length=MAX_BATCH)]


class SessionStartIn(msgspec.Struct, kw_only=True):
    platform: Platform = "web"
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class AnalyticsLoggedOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str


def decode_batch(body: bytes) -> list[AnalyticsEventIn]:
    """A JSON array of events, every one checked before any is used; a bad one is a 422 naming its
    index and field (`["body", 3, "event_name"]`), which Litestar's list decoding cannot say."""
    try:
        events: list[AnalyticsEventIn] = msgspec.json.decode(body, type=AnalyticsBatchIn)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        loc = location(path.rstrip("`")) if path else ["body"]
        raise InvalidInput(message, field=".".join(str(p) for p in loc[1:]) or None, loc=loc) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"Request body is not valid JSON: {exc}") from exc
    return events


def bounded_metadata(metadata: dict[str, Any] | None, field: str) -> dict[str, Any]:
    """At most MAX_METADATA_BYTES once encoded; NUL-free (it would reach the services' stores)."""
    if not metadata:
        return {}
    encoded = msgspec.json.encode(metadata)
    if len(encoded) > MAX_METADATA_BYTES:
        raise InvalidInput(f"metadata must be at most {MAX_METADATA_BYTES} bytes encoded", field=field)
    if b"\\u0000" in encoded:
        raise InvalidInput("metadata must not contain NUL characters", field=field)
    return metadata
