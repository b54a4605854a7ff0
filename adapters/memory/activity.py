"""Memory twin of the activity queries, over the store's request log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.memory.store import MemoryStore
from domain.activity import ActivityEntry, ActivityFilter, ActivityPage, UsageGroup
from domain.requests import RequestRecord
from ports.activity import GroupBy


class MemoryActivityQueries:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    def _matching(self, user_id: int, where: ActivityFilter) -> list[RequestRecord]:
        return [r for r in self._s.requests.values()
                if r.user_id == user_id and (where.since is None or r.created_at >= where.since)
                and (where.until is None or r.created_at < where.until)
                and (not where.model or r.model == where.model)
                and (not where.provider or r.provider == where.provider)
                and (not where.status or r.status == where.status)]

    def _key_name(self, key_id: int | None) -> str | None:
        key = self._s.api_keys.get(key_id) if key_id is not None else None
        return key.name if key is not None else None

    async def log(self, user_id: int, where: ActivityFilter, *, limit: int, offset: int) -> ActivityPage:
        rows = sorted(self._matching(user_id, where), key=lambda r: r.created_at, reverse=True)
        entries = [ActivityEntry(
            request_id=r.request_id, created_at=r.created_at, model=r.model, provider=r.provider,
            input_tokens=r.input_tokens, output_tokens=r.output_tokens, cost_usd=r.cost_usd,
            processing_time_ms=r.processing_time_ms, time_to_first_token_ms=r.time_to_first_token_ms,
            status=r.status, api_key_id=r.api_key_id, key_name=self._key_name(r.api_key_id))
            for r in rows[offset:offset + limit]]
        return ActivityPage(entries=entries, total=len(rows))

    async def usage(self, user_id: int, *, since: datetime, until: datetime, by: GroupBy) -> list[UsageGroup]:
        groups: dict[str | None, list[RequestRecord]] = {}
        for r in self._matching(user_id, ActivityFilter(since=since, until=until)):
            key = {"model": r.model, "provider": r.provider,
                   "key": str(r.api_key_id) if r.api_key_id is not None else None,
                   "day": r.created_at.date().isoformat(), "all": None}[by]
            groups.setdefault(key, []).append(r)
        return [UsageGroup(
            key=key, requests=len(rs), completed=sum(r.status == "completed" for r in rs),
            failed=sum(r.status == "failed" for r in rs), input_tokens=sum(r.input_tokens for r in rs),
            output_tokens=sum(r.output_tokens for r in rs),
            cost_usd=sum((r.cost_usd or Decimal(0) for r in rs), Decimal(0)),
            processing_time_ms=sum(r.processing_time_ms for r in rs),
            label=self._key_name(int(key)) if by == "key" and key is not None else None)
            for key, rs in groups.items()]
