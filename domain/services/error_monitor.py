"""Error monitoring use cases: reading errors from the log store and grouping them (#1747-#1749,
#1753), scanning them into the stored patterns (#1757, and the loop's job), the loop's desired
state (#1746, #1756, stop), the stored patterns (#1750)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec

from domain.error_monitoring import (
    ErrorPattern,
    ErrorSeverity,
    GeneratedFix,
    MonitorState,
    ScanResult,
    by_severity_then_count,
    entry_hash,
    group,
)
from domain.errors import NotFound
from domain.incidents import is_incident_id
from domain.logs import LogsNotEnabled, from_ns
from ports.clock import Clock
from ports.error_monitoring import ErrorPatternStore, FixStore
from ports.logs import LogSource

DEFAULT_ERROR_QUERY = '{level="ERROR"}'
SCAN_LIMIT = 10_000
SERIOUS = (ErrorSeverity.CRITICAL, ErrorSeverity.HIGH)

Providers = Callable[[], list[str]]  # the catalog's provider slugs and names, read at call time


class ReadErrors:
    """Stores nothing. None when no log store is enabled; LogQueryFailed when it fails."""

    def __init__(self, logs: LogSource, providers: Providers, clock: Clock, *,
                 query: str = DEFAULT_ERROR_QUERY) -> None:
        self._logs = logs
        self._providers = providers
        self._clock = clock
        self._query = query

    async def __call__(self, hours: int, limit: int) -> list[ErrorPattern] | None:
        now = self._clock.now()
        try:
            page = await self._logs.query_range(self._query, now - timedelta(hours=hours), now, limit, "backward")
        except LogsNotEnabled:
            return None
        return group(page.entries, self._providers())

    @staticmethod
    def serious(patterns: list[ErrorPattern]) -> list[ErrorPattern]:
        """#1748: critical or high, the most frequent first."""
        return sorted((p for p in patterns if p.severity in SERIOUS), key=lambda p: -p.count)

    @staticmethod
    def fixable(patterns: list[ErrorPattern]) -> list[ErrorPattern]:
        """#1749: fixable only, by severity rank then count."""
        return by_severity_then_count(p for p in patterns if p.fixable)


class ScanErrors:
    """Adds each log entry once: the scan resumes from the stored cursor (the last timestamp
    scanned) and skips the entries already counted at it, so overlapping scans do not re-count."""

    def __init__(self, logs: LogSource, store: ErrorPatternStore, providers: Providers, clock: Clock, *,
                 query: str = DEFAULT_ERROR_QUERY, limit: int = SCAN_LIMIT) -> None:
        self._logs = logs
        self._store = store
        self._providers = providers
        self._clock = clock
        self._query = query
        self._limit = limit

    async def __call__(self, hours: int = 1) -> ScanResult:
        state = await self._store.state()
        now = self._clock.now()
        start = now - timedelta(hours=hours)
        cursor = state.cursor_ns
        if cursor is not None:
            start = max(start, from_ns(cursor))
        page = await self._logs.query_range(self._query, start, now, self._limit, "forward")
        seen = set(state.cursor_hashes)
        fresh = [e for e in page.entries if cursor is None or e.timestamp_ns > cursor
                 or (e.timestamp_ns == cursor and entry_hash(e) not in seen)]
        patterns = group(fresh, self._providers())
        stored = await self._store.merge(patterns) if patterns else []
        if fresh:
            last = fresh[-1].timestamp_ns
            hashes = [entry_hash(e) for e in fresh if e.timestamp_ns == last]
            if last == cursor:
                hashes = sorted(seen | set(hashes))
            cursor, seen_list = last, hashes
        else:
            seen_list = sorted(seen)
        await self._store.record_scan(at=now, cursor_ns=cursor, cursor_hashes=seen_list, occurrences=len(fresh))
        return ScanResult(errors_found=len(stored), critical_errors=sum(1 for p in stored if p.severity in SERIOUS),
                          patterns=stored)


class MonitorStatus(msgspec.Struct, kw_only=True, frozen=True):
    state: MonitorState
    running: bool
    total_patterns: int


class MonitorControl:
    """The desired state lives in the database: a second start updates the interval and never adds a
    loop (the scheduler's one job reads it)."""

    def __init__(self, store: ErrorPatternStore, leader_running: Callable[[], Awaitable[bool]], clock: Clock,
                 *, cache_s: float = 5.0) -> None:
        self._store = store
        self._clock = clock
        self._leader_running = leader_running
        self._cache_s = cache_s
        self._cached: tuple[float, float | None] | None = None

    async def start(self, interval_s: int) -> None:
        await self._store.set_desired(enabled=True, interval_s=interval_s)
        self._cached = None

    async def stop(self) -> None:
        await self._store.set_desired(enabled=False)
        self._cached = None

    async def status(self) -> MonitorStatus:
        state = await self._store.state()
        _, total = await self._store.page(1, 0)
        return MonitorStatus(state=state, running=state.enabled and await self._leader_running(),
                             total_patterns=total)

    async def counts_by_category(self) -> dict[str, int]:
        return await self._store.counts_by_category()

    async def scan_interval(self) -> float | None:
        """For the scheduler: the interval while enabled, else None; read at most every few seconds."""
        now = self._clock.monotonic()
        if self._cached is None or now - self._cached[0] >= self._cache_s:
            state = await self._store.state()
            self._cached = (now, float(state.interval_s) if state.enabled else None)
        return self._cached[1]


class ListPatterns:
    def __init__(self, store: ErrorPatternStore) -> None:
        self._store = store

    async def __call__(self, limit: int, offset: int) -> tuple[list[ErrorPattern], int]:
        return await self._store.page(limit, offset)

    async def matching(self, keys_or_types: list[str]) -> list[ErrorPattern]:
        return await self._store.matching(keys_or_types)


class FixQueries:
    """#1751 and #1752: stored fixes, readable without an Anthropic key."""

    def __init__(self, fixes: FixStore) -> None:
        self._fixes = fixes

    async def page(self, limit: int, offset: int) -> tuple[list[GeneratedFix], int]:
        return await self._fixes.page(limit, offset)

    async def get(self, fix_id: str) -> GeneratedFix:
        fix = await self._fixes.get(fix_id) if is_incident_id(fix_id) else None
        if fix is None:
            raise NotFound("Fix not found")
        return fix
