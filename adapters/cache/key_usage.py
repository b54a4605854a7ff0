"""`last_used_at` without a write per request: authentications are coalesced in memory (the latest
time per key) and written every `interval_s`, and on shutdown. A crash loses at most one interval
of last-use times, which only ever makes them a little older than the truth."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog

from domain.errors import ServiceUnavailable
from ports.key_usage import KeyUsageStore

log = structlog.get_logger(__name__)


class BufferedKeyUsage:
    def __init__(self, store: KeyUsageStore, *, interval_s: float = 60.0) -> None:
        self._store = store
        self._interval = interval_s
        self._pending: dict[int, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def seen(self, key_id: int, at: datetime) -> None:
        last = self._pending.get(key_id)
        if last is None or at > last:
            self._pending[key_id] = at

    async def flush(self) -> None:
        if not self._pending:
            return
        uses, self._pending = self._pending, {}
        try:
            await self._store.mark_used(uses)
        except ServiceUnavailable as exc:
            for key_id, at in uses.items():  # kept for the next flush, newer sightings win
                self.seen(key_id, at)
            log.warning("key_usage_flush_failed", pending=len(self._pending), reason=exc.reason)
        except Exception:
            log.exception("key_usage_flush_failed", dropped=len(uses))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="key_usage")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
