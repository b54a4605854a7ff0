"""In-process twin of error_patterns and error_monitor_state."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.error_monitoring import ErrorPattern, FixStatus, GeneratedFix, MonitorState, merge


class MemoryErrorPatternStore:
    def __init__(self, initial: MonitorState | None = None) -> None:
        self.patterns: dict[str, ErrorPattern] = {}
        self._state = initial or MonitorState()

    async def merge(self, patterns: list[ErrorPattern]) -> list[ErrorPattern]:
        out = []
        for p in patterns:
            stored = self.patterns.get(p.key)
            self.patterns[p.key] = merge(stored, p) if stored is not None else p
            out.append(self.patterns[p.key])
        return out

    def _newest(self) -> list[ErrorPattern]:
        return sorted(self.patterns.values(), key=lambda p: (-p.last_seen.timestamp(), p.key))

    async def page(self, limit: int, offset: int) -> tuple[list[ErrorPattern], int]:
        return self._newest()[offset:offset + limit], len(self.patterns)

    async def get(self, key: str) -> ErrorPattern | None:
        return self.patterns.get(key)

    async def matching(self, keys_or_types: list[str]) -> list[ErrorPattern]:
        wanted = set(keys_or_types)
        return [p for p in self._newest() if p.key in wanted or p.error_type in wanted]

    async def counts_by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.patterns.values():
            counts[str(p.category)] = counts.get(str(p.category), 0) + p.count
        return counts

    async def state(self) -> MonitorState:
        return self._state

    async def set_desired(self, *, enabled: bool, interval_s: int | None = None, auto_fix: bool | None = None) -> None:
        s = self._state
        self._state = msgspec.structs.replace(s, enabled=enabled, interval_s=interval_s or s.interval_s,
                                              auto_fix=s.auto_fix if auto_fix is None else auto_fix)

    async def record_scan(self, *, at: datetime, cursor_ns: int | None, cursor_hashes: list[str],
                          occurrences: int) -> None:
        self._state = msgspec.structs.replace(self._state, last_scan=at, cursor_ns=cursor_ns,
                                              cursor_hashes=list(cursor_hashes),
                                              errors_since_last_fix=self._state.errors_since_last_fix + occurrences)

    async def fix_generated(self) -> None:
        self._state = msgspec.structs.replace(self._state, errors_since_last_fix=0)


class MemoryFixStore:
    def __init__(self) -> None:
        self.fixes: dict[str, GeneratedFix] = {}

    async def save(self, fix: GeneratedFix) -> GeneratedFix:
        self.fixes[fix.id] = fix
        return fix

    async def get(self, fix_id: str) -> GeneratedFix | None:
        return self.fixes.get(fix_id)

    async def page(self, limit: int, offset: int) -> tuple[list[GeneratedFix], int]:
        newest = sorted(self.fixes.values(), key=lambda f: (-f.generated_at.timestamp(), f.id))
        return newest[offset:offset + limit], len(newest)

    async def with_open_pull_requests(self) -> list[GeneratedFix]:
        return sorted((f for f in self.fixes.values() if f.status is FixStatus.TESTING and f.pr_number is not None),
                      key=lambda f: f.generated_at)

    async def count_since(self, since: datetime) -> int:
        return sum(1 for f in self.fixes.values() if f.generated_at >= since)
