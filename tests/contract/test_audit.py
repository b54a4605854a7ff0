"""The audit log behaves the same on every adapter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.audit import AuditEvent
from ports.uow import UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)


def kind() -> str:
    """A per-test event type: the PostgreSQL database is shared by the whole session."""
    return f"TEST_{uuid.uuid4().hex[:12].upper()}"


async def record(uow: UnitOfWorkFactory, *events: AuditEvent) -> None:
    async with uow() as u:
        for e in events:
            await u.audit.record(e)
        await u.commit()


async def test_an_event_reads_back_field_for_field(uow_factory: UnitOfWorkFactory) -> None:
    event_type = kind()
    event = AuditEvent(event_type=event_type, created_at=T0, user_id=7, api_key_id=11,
                       details={"method": "GET", "path": "/admin/users", "client_ip": None, "n": [1, 2]})
    await record(uow_factory, event)
    async with uow_factory() as u:
        assert await u.audit.recent(event_type=event_type) == [event]


async def test_an_event_without_user_or_details_is_kept(uow_factory: UnitOfWorkFactory) -> None:
    event_type = kind()
    await record(uow_factory, AuditEvent(event_type=event_type, created_at=T0))
    async with uow_factory() as u:
        [event] = await u.audit.recent(event_type=event_type)
    assert (event.user_id, event.api_key_id, event.details, event.created_at) == (None, None, {}, T0)


async def test_recent_events_come_newest_first_filtered_by_type_and_limited(uow_factory: UnitOfWorkFactory) -> None:
    wanted, other = kind(), kind()
    await record(uow_factory, *(AuditEvent(event_type=wanted if i % 2 == 0 else other,
                                           created_at=T0 + timedelta(seconds=i), details={"i": i})
                                for i in range(6)))
    async with uow_factory() as u:
        assert [e.details["i"] for e in await u.audit.recent(event_type=wanted)] == [4, 2, 0]
        assert [e.details["i"] for e in await u.audit.recent(event_type=wanted, limit=2)] == [4, 2]
        assert [e.details["i"] for e in await u.audit.recent(limit=3)] == [5, 4, 3]


async def test_an_uncommitted_event_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    event_type = kind()
    async with uow_factory() as u:
        await u.audit.record(AuditEvent(event_type=event_type, created_at=T0))
    async with uow_factory() as u:
        assert await u.audit.recent(event_type=event_type) == []
