"""Memory twin of the ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from adapters.memory.store import MemoryStore
from domain.errors import Conflict
from domain.ledger import Balances, CreditTransaction, TransactionType
from domain.ledger_check import AccountBalances, MismatchKind, UsageGap
from domain.ledger_queries import LedgerSummary, SystemBalances, TransactionQuery, summarize
from domain.money import total


class MemoryLedgerRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def append(self, row: CreditTransaction) -> CreditTransaction:
        if row.request_id is not None and any(r.request_id == row.request_id for r in self._s.ledger):
            raise Conflict(f"request {row.request_id} already recorded", code="duplicate_request")
        stored = msgspec.structs.replace(row, id=self._s.next_id("credit_transactions"))
        self._s.ledger = [*self._s.ledger, stored]
        return stored

    async def append_many(self, rows: list[CreditTransaction]) -> None:
        for row in rows:
            await self.append(row)

    async def recorded_requests(self, request_ids: list[str]) -> set[str]:
        wanted = set(request_ids)
        return {r.request_id for r in self._s.ledger if r.request_id in wanted}

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]:
        mine = [r for r in self._s.ledger if r.user_id == user_id]
        mine.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return mine[offset:offset + limit]

    async def sum_for_user(self, user_id: int) -> Decimal:
        return total(r.amount for r in self._s.ledger if r.user_id == user_id)

    async def get(self, transaction_id: int) -> CreditTransaction | None:
        return next((r for r in self._s.ledger if r.id == transaction_id), None)

    async def search(self, query: TransactionQuery, *, limit: int, offset: int) -> list[CreditTransaction]:
        return query.run(self._s.ledger, limit=limit, offset=offset)

    async def summarize(self, *, user_id: int | None = None, since: datetime | None = None,
                        until: datetime | None = None, detailed: bool = True) -> LedgerSummary:
        query = TransactionQuery(user_id=user_id, since=since, until=until)
        return summarize((r for r in self._s.ledger if query.matches(r)), detailed=detailed)

    async def granted_since(self, created_by: str, since: datetime) -> Decimal:
        return total(r.amount for r in self._s.ledger
                     if r.created_by == created_by and r.transaction_type is TransactionType.ADMIN_CREDIT
                     and r.amount > 0 and r.created_at is not None and r.created_at >= since)

    async def rows_after(self, after_id: int, *, limit: int) -> list[CreditTransaction]:
        return sorted((r for r in self._s.ledger if (r.id or 0) > after_id), key=lambda r: r.id or 0)[:limit]

    async def history(self, user_id: int) -> list[CreditTransaction]:
        return sorted((r for r in self._s.ledger if r.user_id == user_id), key=lambda r: r.id or 0)

    async def user_balances(self, after_user_id: int, *, limit: int) -> list[AccountBalances]:
        return [AccountBalances(user_id=u.id, balances=Balances(subscription_allowance=u.subscription_allowance,
                                                                 purchased_credits=u.purchased_credits))
                for u in sorted(self._s.users.values(), key=lambda u: u.id) if u.id > after_user_id][:limit]

    async def usage_gaps(self, request_ids: list[str] | None = None) -> list[UsageGap]:
        wanted = set(request_ids) if request_ids is not None else None
        usage = {r.request_id: r for r in self._s.ledger
                 if r.transaction_type is TransactionType.API_USAGE and r.request_id is not None}
        gaps = [UsageGap(kind=MismatchKind.UNCHARGED_REQUEST, request_id=rid, user_id=q.user_id, amount=q.cost_usd)
                for rid, q in self._s.requests.items()
                if q.status == "completed" and q.user_id is not None and q.cost_usd is not None and q.cost_usd > 0
                and rid not in usage]
        gaps += [UsageGap(kind=MismatchKind.UNLOGGED_USAGE, request_id=rid, user_id=r.user_id, amount=r.amount)
                 for rid, r in usage.items() if rid not in self._s.requests]
        return sorted((g for g in gaps if wanted is None or g.request_id in wanted), key=lambda g: g.request_id)

    async def system_balances(self) -> SystemBalances:
        return SystemBalances(users=len(self._s.users), total=total(u.balance for u in self._s.users.values()))
