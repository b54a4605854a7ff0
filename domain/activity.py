"""A user's own request activity: the log of their requests and its statistics, from the request log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec


class ActivityFilter(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive
    model: str | None = None
    provider: str | None = None
    status: str | None = None       # completed | failed


class ActivityEntry(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    created_at: datetime
    model: str
    provider: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    processing_time_ms: int
    time_to_first_token_ms: int | None
    status: str
    api_key_id: int | None
    key_name: str | None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def tokens_per_second(self) -> float | None:
        if self.processing_time_ms <= 0 or self.output_tokens <= 0:
            return None
        return round(self.output_tokens / (self.processing_time_ms / 1000), 2)


class ActivityPage(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[ActivityEntry]
    total: int


class UsageGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group's sums (a model, a provider, a key, a UTC day, or everything)."""

    key: str | None
    requests: int = 0
    completed: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    processing_time_ms: int = 0  # the sum; avg = sum / requests
    label: str | None = None     # a key's name

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def avg_processing_time_ms(self) -> float:
        return round(self.processing_time_ms / self.requests, 2) if self.requests else 0.0


class ActivityStats(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime
    until: datetime
    days: int
    totals: UsageGroup
    daily: list[tuple[date, UsageGroup]]
    by_model: list[UsageGroup]
    by_provider: list[UsageGroup]
    by_key: list[UsageGroup]
