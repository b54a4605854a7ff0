"""The write-behind's failure handling: a lost database keeps the batch, a bad item is dropped alone."""

from __future__ import annotations

import pytest

from adapters.cache.batch_writer import BatchWriter
from domain.errors import ServiceUnavailable


class Store:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.down = False

    async def write(self, batch: list[int]) -> None:
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")
        if 13 in batch:
            raise ValueError("a row the database refuses")
        self.rows.extend(batch)


async def test_a_lost_database_keeps_the_batch_for_the_next_flush() -> None:
    store = Store()
    writer = BatchWriter(store.write, name="t")
    store.down = True
    for i in range(3):
        await writer.put(i)
    await writer.flush()
    assert store.rows == [] and writer.buffer == [0, 1, 2]
    store.down = False
    await writer.flush()
    assert store.rows == [0, 1, 2] and writer.buffer == []


async def test_one_bad_item_is_dropped_and_the_others_land() -> None:
    store = Store()
    landed: list[int] = []
    writer = BatchWriter(store.write, name="t", written=landed.extend)
    for i in (11, 12, 13, 14):
        await writer.put(i)
    await writer.flush()
    assert store.rows == [11, 12, 14] and landed == [11, 12, 13, 14] and writer.buffer == []


async def test_stop_flushes_what_is_buffered() -> None:
    store = Store()
    writer = BatchWriter(store.write, name="t", interval_s=60)
    writer.start()
    await writer.put(1)
    await writer.stop()
    assert store.rows == [1]


@pytest.mark.parametrize("size", [1, 2])
async def test_batches_never_exceed_their_size(size: int) -> None:
    seen: list[int] = []

    async def write(batch: list[int]) -> None:
        seen.append(len(batch))

    writer = BatchWriter(write, name="t", batch_size=size)
    for i in range(5):
        await writer.put(i)
    await writer.flush()
    assert max(seen) == size and sum(seen) == 5
