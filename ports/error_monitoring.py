"""Persistence of error patterns and of the scan loop's desired state and cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.error_monitoring import ErrorPattern, GeneratedFix, MonitorState


class ErrorPatternStore(Protocol):
    """Adapters that lose their database raise ServiceUnavailable."""

    async def merge(self, patterns: list[ErrorPattern]) -> list[ErrorPattern]:
        """Add each scan's patterns to the stored ones (counts add up, examples keep the 5 most
        recent); returns the stored patterns after the merge."""
        ...

    async def page(self, limit: int, offset: int) -> tuple[list[ErrorPattern], int]:
        """`last_seen` descending, and the total."""
        ...

    async def get(self, key: str) -> ErrorPattern | None: ...

    async def matching(self, keys_or_types: list[str]) -> list[ErrorPattern]:
        """Every stored pattern whose key or error_type is listed, the most recently seen first."""
        ...

    async def counts_by_category(self) -> dict[str, int]:
        """The sum of stored counts per category."""
        ...

    async def state(self) -> MonitorState: ...

    async def set_desired(self, *, enabled: bool, interval_s: int | None = None, auto_fix: bool | None = None) -> None:
        ...

    async def record_scan(self, *, at: datetime, cursor_ns: int | None, cursor_hashes: list[str],
                          occurrences: int) -> None:
        """Advance the cursor and add `occurrences` to errors_since_last_fix."""
        ...

    async def fix_generated(self) -> None:
        """errors_since_last_fix back to 0."""
        ...


class FixStore(Protocol):
    async def save(self, fix: GeneratedFix) -> GeneratedFix:
        """Insert or replace by id."""
        ...

    async def get(self, fix_id: str) -> GeneratedFix | None: ...

    async def page(self, limit: int, offset: int) -> tuple[list[GeneratedFix], int]:
        """`generated_at` descending, and the total."""
        ...

    async def with_open_pull_requests(self) -> list[GeneratedFix]:
        """Status `testing` with a pull request number."""
        ...

    async def count_since(self, since: datetime) -> int:
        """Fixes generated (attempted) at or after `since`: the hourly budget."""
        ...
