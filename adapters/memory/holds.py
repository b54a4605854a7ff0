"""In-process hold store: the embedded default's (one process) and the unit tests' twin. Given a
MemoryJournal it journals like the Redis adapter (the embedded default runs without one and writes
settlements behind instead: a process's holds die with it there)."""

from __future__ import annotations

from decimal import Decimal

from adapters.memory.settlements import MemoryJournal
from domain.holds import BalanceUnknown, Hold, Reservation
from domain.settlements import ExpiredHold, SettledRequest


class MemoryHoldStore:
    def __init__(self, journal: MemoryJournal | None = None) -> None:
        self.balances: dict[int, Decimal] = {}
        self.holds: dict[int, dict[str, Hold]] = {}
        self._settled: set[str] = set()
        self._journal = journal
        self.journaled = journal is not None

    def _purge(self, user_id: int, now: float) -> dict[str, Hold]:
        mine = self.holds.setdefault(user_id, {})
        for rid in [rid for rid, h in mine.items() if h.expires_at <= now]:
            hold = mine.pop(rid)
            if self._journal is not None:
                self._journal.append(ExpiredHold(user_id=user_id, request_id=rid, amount=hold.amount,
                                                 expired_at=hold.expires_at))
        return mine

    async def reserve(self, user_id: int, request_id: str, amount: Decimal, *, now: float,
                      ttl_s: float) -> Reservation:
        if user_id not in self.balances:
            raise BalanceUnknown(user_id)
        mine = self._purge(user_id, now)
        held = sum((h.amount for h in mine.values()), Decimal(0))
        available = self.balances[user_id] - held
        if available < amount:
            return Reservation(accepted=False, available=available, held=held)
        mine[request_id] = Hold(user_id=user_id, request_id=request_id, amount=amount, expires_at=now + ttl_s)
        return Reservation(accepted=True, available=available, held=held + amount)

    async def prime(self, user_id: int, balance: Decimal) -> None:
        self.balances.setdefault(user_id, balance)

    async def settle(self, user_id: int, request_id: str, charged: Decimal, *,
                     entry: SettledRequest | None = None) -> bool:
        if request_id in self._settled:
            return False
        self._settled.add(request_id)
        self.holds.get(user_id, {}).pop(request_id, None)
        if user_id in self.balances:
            self.balances[user_id] -= charged
        if self._journal is not None and entry is not None:
            self._journal.append(entry)
        return True

    async def expire(self, *, now: float, limit: int = 500) -> int:
        if self._journal is None:
            return 0
        before = len(self._journal.entries)
        for uid in list(self.holds):
            self._purge(uid, now)
        return len(self._journal.entries) - before

    async def unposted(self, user_id: int) -> Decimal:
        return self._journal.unposted.get(user_id, Decimal(0)) if self._journal is not None else Decimal(0)

    async def forget_balance(self, user_id: int) -> None:
        self.balances.pop(user_id, None)

    async def held(self, user_id: int, *, now: float) -> Decimal:
        return sum((h.amount for h in self._purge(user_id, now).values()), Decimal(0))

    async def open_holds(self, *, now: float) -> list[Hold]:
        return [h for uid in list(self.holds) for h in self._purge(uid, now).values()]
