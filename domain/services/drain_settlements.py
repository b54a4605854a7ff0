"""DrainSettlements: write the durable settlement journal into the database, then acknowledge.

One call is one round: entries another consumer left unacknowledged too long (it died) are taken
over, new entries are read, and the batch is written: the charges by PostSettlements (one
transaction, request ids already in the ledger skipped), the request rows (a request id already
stored is skipped), the `hold_expired` events (one per request id). Only then is the batch
acknowledged, so a process killed anywhere in between leaves its entries to be claimed and written
again, and every write skips what already landed: an entry delivered twice writes one row.
A batch the database refuses (ServiceUnavailable) is kept and retried first next round; any other
failure is retried entry by entry, and an entry that fails alone is dropped (returned, to be logged)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from domain.audit import AuditEvent
from domain.errors import ServiceUnavailable
from domain.services.post_settlements import PostSettlements
from domain.settlements import HOLD_EXPIRED, ExpiredHold, JournalEntry, SettledRequest
from ports.clock import Clock
from ports.requests import RequestLogStore
from ports.settlements import SettlementStream
from ports.telemetry import SettlementMetrics
from ports.uow import UnitOfWorkFactory


class Drained(msgspec.Struct, frozen=True, kw_only=True):
    read: int = 0                      # entries this round took (claimed ones included)
    claimed: int = 0                   # taken over from another consumer
    dropped: list[JournalEntry] = []   # could not be written at all (acknowledged anyway)


class DrainSettlements:
    def __init__(self, stream: SettlementStream, post: PostSettlements, requests: RequestLogStore,
                 uow: UnitOfWorkFactory, clock: Clock, metrics: SettlementMetrics, *, batch: int = 500) -> None:
        self._stream = stream
        self._post = post
        self._requests = requests
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self._batch = batch
        self._retry: list[JournalEntry] = []

    async def __call__(self, *, claim: bool = True) -> Drained:
        """One round. Raises ServiceUnavailable when the journal or the database is out of reach
        (the entries stay in the journal: nothing is lost)."""
        entries, self._retry = self._retry, []
        claimed = await self._stream.claim_stale(self._batch) if claim else []
        entries += claimed
        if len(entries) < self._batch:
            entries += await self._stream.read(self._batch - len(entries))
        if not entries:
            return Drained()
        try:
            dropped = await self._write(entries)
        except ServiceUnavailable:
            self._retry = entries
            raise
        await self._stream.ack(entries)
        if dropped:
            self._metrics.dropped(len(dropped))
        self._metrics.drained(settlements=sum(isinstance(e.item, SettledRequest) for e in entries),
                              expiries=sum(isinstance(e.item, ExpiredHold) for e in entries), claimed=len(claimed))
        return Drained(read=len(entries), claimed=len(claimed), dropped=dropped)

    async def _write(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        try:
            await self._write_all(entries)
            return [e for e in entries if e.item is None]
        except ServiceUnavailable:
            raise
        except Exception:
            dropped = []
            for entry in entries:
                try:
                    await self._write_all([entry])
                except ServiceUnavailable:
                    raise
                except Exception:
                    dropped.append(entry)
            return dropped + [e for e in entries if e.item is None and e not in dropped]

    async def _write_all(self, entries: Sequence[JournalEntry]) -> None:
        settled = [e.item for e in entries if isinstance(e.item, SettledRequest)]
        expired = [e.item for e in entries if isinstance(e.item, ExpiredHold)]
        charges = [s.charge for s in settled if s.charge is not None]
        if charges:
            await self._post(charges)  # the money first: a request row is never ahead of its charge
        if settled:
            await self._requests.add_many([s.record for s in settled])
        if expired:
            await self._record_expiries(expired)

    async def _record_expiries(self, expired: list[ExpiredHold]) -> None:
        fresh: list[ExpiredHold] = []
        async with self._uow() as uow:
            seen = await uow.audit.recorded(HOLD_EXPIRED, [h.request_id for h in expired])
            now = self._clock.now()
            for hold in expired:
                if hold.request_id in seen:
                    continue
                seen.add(hold.request_id)
                fresh.append(hold)
                await uow.audit.record(AuditEvent(
                    event_type=HOLD_EXPIRED, created_at=now, user_id=hold.user_id, request_id=hold.request_id,
                    details={"request_id": hold.request_id, "held": format(hold.amount, "f"),
                             "expired_at": hold.expired_at}))
            await uow.commit()
        for hold in fresh:
            self._metrics.hold_expired(hold.amount)
