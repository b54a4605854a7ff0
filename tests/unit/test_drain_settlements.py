"""DrainSettlements over memory twins: journaled settlements become ledger and request rows, written
before they are acknowledged; an entry delivered twice writes one row; expired holds become one
`hold_expired` event each; a lost database keeps the batch; an entry that cannot be written is
dropped alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.requests import MemoryRequestLogStore
from adapters.memory.settlements import MemoryJournal, MemorySettlementStream
from adapters.memory.store import MemoryStore
from adapters.memory.telemetry import RecordingSettlementMetrics
from adapters.memory.uow import MemoryUnitOfWorkFactory
from domain.accounts import User
from domain.errors import ServiceUnavailable
from domain.ledger import TransactionType
from domain.requests import RequestRecord
from domain.services.drain_settlements import DrainSettlements
from domain.services.post_settlements import PostSettlements
from domain.settlements import HOLD_EXPIRED, ExpiredHold, JournalEntry, PendingCharge, SettledRequest
from ports.requests import RequestLogStore

AT = datetime(2026, 6, 1, tzinfo=UTC)


class World:
    def __init__(self, idle_s: float = 15.0) -> None:
        self.store = MemoryStore()
        self.store.users[7] = User(id=7, email="p@example.com", username="p", purchased_credits=Decimal(1))
        self.uow = MemoryUnitOfWorkFactory(self.store)
        self.journal = MemoryJournal()
        self.holds = MemoryHoldStore(self.journal)
        self.requests = MemoryRequestLogStore(self.store)
        self.metrics = RecordingSettlementMetrics()
        self.idle_s = idle_s

    def drainer(self, consumer: str, requests: RequestLogStore | None = None) -> DrainSettlements:
        stream = MemorySettlementStream(self.journal, consumer, claim_idle_s=self.idle_s)
        return DrainSettlements(stream, PostSettlements(self.uow), requests or self.requests, self.uow,
                                FixedClock(), self.metrics)

    def settle(self, request_id: str, amount: str, user_id: int = 7) -> None:
        record = RequestRecord(request_id=request_id, created_at=AT, model="acme/chat", status="completed",
                               user_id=user_id, cost_usd=Decimal(amount))
        self.journal.append(SettledRequest(record=record, charge=PendingCharge(
            user_id=user_id, request_id=request_id, amount=Decimal(amount), created_at=AT)))

    def usage(self) -> list[tuple[str | None, Decimal]]:
        return [(r.request_id, r.amount) for r in self.store.ledger if r.transaction_type is TransactionType.API_USAGE]


async def test_journaled_settlements_become_ledger_and_request_rows_then_leave_the_journal() -> None:
    w = World()
    w.settle("r1", "0.25")
    w.settle("r2", "0.5")
    drained = await w.drainer("a")()
    assert drained.read == 2 and drained.dropped == []
    assert w.usage() == [("r1", Decimal("-0.25")), ("r2", Decimal("-0.5"))]
    assert set(w.store.requests) == {"r1", "r2"}
    assert w.store.users[7].balance == Decimal("0.25")
    assert w.journal.entries == {} and w.journal.unposted == {}
    assert w.metrics.drains == [{"settlements": 2, "expiries": 0, "claimed": 0}]


class LostAck(MemorySettlementStream):
    """A consumer killed after its commit, before its acknowledgement."""

    async def ack(self, entries: list[JournalEntry]) -> None:
        raise ServiceUnavailable("killed", reason="test")


async def test_an_entry_delivered_twice_writes_one_row() -> None:
    w = World(idle_s=0.05)
    w.settle("r1", "0.25")
    w.holds.balances[7] = Decimal(1)
    dead = DrainSettlements(LostAck(w.journal, "dead", claim_idle_s=0.05), PostSettlements(w.uow), w.requests, w.uow,
                            FixedClock(), w.metrics)
    with pytest.raises(ServiceUnavailable):
        await dead()  # the rows are written, the entry stays unacknowledged
    assert w.usage() == [("r1", Decimal("-0.25"))]
    await asyncio.sleep(0.06)
    drained = await w.drainer("alive")()
    assert drained.claimed == 1
    assert w.usage() == [("r1", Decimal("-0.25"))] and len(w.store.requests) == 1
    assert w.store.users[7].balance == Decimal("0.75")
    assert w.journal.entries == {} and w.journal.unposted == {}


async def test_an_expired_hold_becomes_one_audit_event_with_its_amount_and_is_counted() -> None:
    w = World(idle_s=0.0)
    expired = ExpiredHold(user_id=7, request_id="lost", amount=Decimal("0.000206"), expired_at=1_800_000_000.0)
    w.journal.append(expired)
    w.journal.append(expired)  # the same expiry journaled twice (a replay)
    await w.drainer("a")()
    events = [e for e in w.store.audit if e.event_type == HOLD_EXPIRED]
    assert len(events) == 1
    assert (events[0].user_id, events[0].request_id, events[0].details["held"]) == (7, "lost", "0.000206")
    assert w.metrics.expired == [Decimal("0.000206")]


class DownOnce(MemoryRequestLogStore):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.down = True

    async def add_many(self, records: list[RequestRecord]) -> None:
        if self.down:
            self.down = False
            raise ServiceUnavailable("database down", reason="test")
        await super().add_many(records)


async def test_a_lost_database_keeps_the_batch_for_the_next_round() -> None:
    w = World()
    w.settle("r1", "0.25")
    drain = w.drainer("a", DownOnce(w.store))
    with pytest.raises(ServiceUnavailable):
        await drain()
    assert len(w.journal.entries) == 1 and "r1" not in w.store.requests
    drained = await drain()
    assert drained.read == 1 and "r1" in w.store.requests and w.usage() == [("r1", Decimal("-0.25"))]
    assert w.journal.entries == {}


async def test_an_entry_that_cannot_be_written_is_dropped_alone() -> None:
    w = World()
    w.settle("r1", "0.25")
    w.settle("ghost", "0.5", user_id=404)  # its user is gone
    w.settle("r2", "0.125")
    drained = await w.drainer("a")()
    assert [e.id for e in drained.dropped] == ["2-0"] and w.metrics.dropped_count == 1
    assert w.usage() == [("r1", Decimal("-0.25")), ("r2", Decimal("-0.125"))]
    assert w.journal.entries == {}
