"""Memory twin of the durable settlement journal: one `MemoryJournal` (what Redis would hold) and a
`MemorySettlementStream` per consumer over it, with the consumer-group rules of the Redis adapter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.settlements import ExpiredHold, JournalEntry, SettledRequest


@dataclass
class MemoryJournal:
    entries: dict[str, SettledRequest | ExpiredHold] = field(default_factory=dict)  # in append order
    delivered: dict[str, tuple[str, float]] = field(default_factory=dict)          # id -> (consumer, when)
    unposted: dict[int, Decimal] = field(default_factory=dict)
    _seq: int = 0

    def append(self, item: SettledRequest | ExpiredHold) -> str:
        self._seq += 1
        entry_id = f"{self._seq}-0"
        self.entries[entry_id] = item
        if isinstance(item, SettledRequest) and item.charge is not None:
            uid = item.charge.user_id
            self.unposted[uid] = self.unposted.get(uid, Decimal(0)) + item.charge.amount
        return entry_id


class MemorySettlementStream:
    def __init__(self, journal: MemoryJournal, consumer: str = "memory", *, claim_idle_s: float = 15.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._j = journal
        self.consumer = consumer
        self._idle = claim_idle_s
        self._now = monotonic

    async def read(self, count: int) -> list[JournalEntry]:
        fresh = [eid for eid in self._j.entries if eid not in self._j.delivered][:count]
        return self._take(fresh)

    async def claim_stale(self, count: int) -> list[JournalEntry]:
        now = self._now()
        stale = [eid for eid, (_, at) in self._j.delivered.items() if now - at >= self._idle][:count]
        return self._take(stale)

    def _take(self, ids: list[str]) -> list[JournalEntry]:
        now = self._now()
        for eid in ids:
            self._j.delivered[eid] = (self.consumer, now)
        return [JournalEntry(id=eid, item=self._j.entries[eid]) for eid in ids]

    async def ack(self, entries: list[JournalEntry]) -> None:
        for e in entries:
            item = self._j.entries.pop(e.id, None)
            if self._j.delivered.pop(e.id, None) is None or item is None:
                continue  # acknowledged before (by another consumer): its charge left the totals then
            if isinstance(item, SettledRequest) and item.charge is not None:
                uid = item.charge.user_id
                left = self._j.unposted.get(uid, Decimal(0)) - item.charge.amount
                if left > 0:
                    self._j.unposted[uid] = left
                else:
                    self._j.unposted.pop(uid, None)

    async def backlog(self) -> int:
        return len(self._j.entries)

    async def leave(self) -> None:
        return None
