"""Tokens-per-second figures (#1706, #1707): public throughput per (model, provider), in the
Prometheus text format, and the gate that publishes them only for the most used pairs."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from domain.errors import GatewayError

METRIC = "gatewayz_tokens_per_second"
TOP_PAIRS = 3
GATE_TTL_S = 60.0


class TimeRange(StrEnum):
    HOUR = "hour"
    WEEK = "week"
    MONTH = "month"
    YEAR = "1year"
    TWO_YEARS = "2year"


WINDOWS = {TimeRange.HOUR: timedelta(hours=1), TimeRange.WEEK: timedelta(days=7),
           TimeRange.MONTH: timedelta(days=30), TimeRange.YEAR: timedelta(days=365),
           TimeRange.TWO_YEARS: timedelta(days=730)}
INVALID_TIME = "Invalid time parameter. Must be one of: hour, week, month, 1year, 2year"
NOT_PUBLISHED = "Metrics are only published for the most used models"


class UsagePair(msgspec.Struct, frozen=True, kw_only=True):
    """Completed requests of one model (its integer id) served by one provider, all time."""

    model_id: int
    provider: str
    requests: int


class Throughput(msgspec.Struct, frozen=True, kw_only=True):
    model: str          # the catalog's name of the model
    provider: str
    requests: int
    total_tokens: int
    total_ms: int

    @property
    def tokens_per_second(self) -> float | None:
        """None when no time was measured (the seed divided by zero)."""
        return self.total_tokens / (self.total_ms / 1000) if self.total_ms > 0 else None


def allowed_pairs(pairs: list[UsagePair]) -> frozenset[tuple[int, str]]:
    """The 3 pairs with the most completed requests, plus each other provider's most used pair
    (ties: the lowest model id)."""
    ranked = sorted(pairs, key=lambda p: (-p.requests, p.model_id, p.provider))
    chosen = {(p.model_id, p.provider) for p in ranked[:TOP_PAIRS]}
    covered = {p.provider for p in ranked[:TOP_PAIRS]}
    for p in ranked:
        if p.provider not in covered:
            covered.add(p.provider)
            chosen.add((p.model_id, p.provider))
    return frozenset(chosen)


def _label(value: str) -> str:
    """Label values escaped per the text exposition format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(figure: Throughput | None, *, generated: datetime, time_range: str, gated: bool) -> str:
    lines = [f"# HELP {METRIC} Token throughput (tokens/second) by model and provider",
             f"# TYPE {METRIC} gauge",
             f"# Generated: {generated.isoformat()}",
             f"# Time range: {time_range}"]
    if gated:
        lines.append("# Filtered to: top 3 models + minimum 1 per provider")
    value = figure.tokens_per_second if figure is not None else None
    if figure is not None and value is not None:
        lines.append(f'{METRIC}{{model="{_label(figure.model)}",provider="{_label(figure.provider)}",'
                     f'requests="{figure.requests}",total_tokens="{figure.total_tokens}"}} {value!r}')
    elif not gated:
        lines.append("# No data available")
    return "\n".join(lines) + "\n"


class InvalidTimeRange(GatewayError):
    """The seed's 400 (not a 422): `time` is checked by the handler, not by the parameter's type."""

    code = "invalid_time_range"

    def __init__(self) -> None:
        super().__init__(INVALID_TIME)
