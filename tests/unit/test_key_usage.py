"""Key sightings are coalesced (latest per key) and written behind; a lost database keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.cache.key_usage import BufferedKeyUsage
from domain.errors import ServiceUnavailable

T0 = datetime(2026, 12, 4, tzinfo=UTC)


class Store:
    def __init__(self) -> None:
        self.writes: list[dict[int, datetime]] = []
        self.down = False

    async def mark_used(self, uses: dict[int, datetime]) -> None:
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")
        self.writes.append(dict(uses))


async def test_sightings_coalesce_to_the_latest_per_key_in_one_write() -> None:
    store = Store()
    usage = BufferedKeyUsage(store, interval_s=3600)
    for minute in (3, 1, 2):
        usage.seen(7, T0 + timedelta(minutes=minute))
    usage.seen(8, T0)
    await usage.flush()
    assert store.writes == [{7: T0 + timedelta(minutes=3), 8: T0}]
    await usage.flush()
    assert len(store.writes) == 1  # nothing new: no write


async def test_a_lost_database_keeps_the_sightings_for_the_next_flush() -> None:
    store = Store()
    usage = BufferedKeyUsage(store, interval_s=3600)
    usage.seen(7, T0)
    store.down = True
    await usage.flush()
    usage.seen(7, T0 - timedelta(minutes=1))  # older than the kept one
    store.down = False
    await usage.flush()
    assert store.writes == [{7: T0}]


async def test_stop_writes_what_is_pending() -> None:
    store = Store()
    usage = BufferedKeyUsage(store, interval_s=3600)
    usage.start()
    usage.seen(1, T0)
    await usage.stop()
    assert store.writes == [{1: T0}]
