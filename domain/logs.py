"""Log entries as a log store (Loki) returns them, and the typed outcomes of asking it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from domain.errors import GatewayError

Direction = Literal["forward", "backward"]


class LogEntry(msgspec.Struct, kw_only=True, frozen=True):
    timestamp_ns: int  # the store's own timestamp, Unix nanoseconds (paging resumes from it)
    level: str | None
    logger: str | None
    message: str
    labels: dict[str, str]
    error_type: str | None = None
    stack_trace: str | None = None

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ns / 1e9, UTC)

    def as_dict(self) -> dict[str, Any]:
        """The stored and wire shape: `{timestamp (ISO-8601 UTC), level, logger, message, labels,
        error_type?}`."""
        out: dict[str, Any] = {"timestamp": self.timestamp.isoformat(), "level": self.level, "logger": self.logger,
                               "message": self.message, "labels": dict(self.labels)}
        if self.error_type is not None:
            out["error_type"] = self.error_type
        return out


class LogPage(msgspec.Struct, kw_only=True, frozen=True):
    entries: list[LogEntry]
    truncated: bool  # more entries existed in the window than the limit let through


class LogsNotEnabled(GatewayError):
    """No log store is configured (LOKI_ENABLED false or no LOKI_QUERY_URL): not an empty result."""

    code = "logs_not_enabled"

    def __init__(self, message: str = "Loki not enabled") -> None:
        super().__init__(message)


class LogQueryFailed(GatewayError):
    """The store refused or failed the query; `message` is sanitised (no credentials, no URL)."""

    code = "log_query_failed"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)


def ns(moment: datetime) -> int:
    """Unix nanoseconds of an aware datetime, exactly (no float rounding)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def from_ns(value: int) -> datetime:
    """The datetime at or just before a Unix-nanosecond timestamp (microsecond precision)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value // 1000)
