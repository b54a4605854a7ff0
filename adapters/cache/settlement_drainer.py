"""The background writer of the durable settlement journal, one per process.

Every `interval_s` it runs DrainSettlements until the journal has nothing more for it (entries of a
dead consumer are taken over every `claim_every_s`), and every `sweep_every_s` it journals holds
that lapsed unsettled. On stop it drains what is left for it and leaves the consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from domain.errors import ServiceUnavailable
from domain.services.drain_settlements import DrainSettlements
from ports.clock import Clock
from ports.holds import HoldStore
from ports.settlements import SettlementStream

log = structlog.get_logger(__name__)


class SettlementDrainer:
    def __init__(self, drain: DrainSettlements, stream: SettlementStream, holds: HoldStore, clock: Clock, *,
                 interval_s: float = 0.1, claim_every_s: float = 1.0, sweep_every_s: float = 5.0,
                 batch: int = 500) -> None:
        self._drain = drain
        self._stream = stream
        self._holds = holds
        self._clock = clock
        self._interval = interval_s
        self._claim_every = claim_every_s
        self._sweep_every = sweep_every_s
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._last_claim = self._last_sweep = 0.0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="settlement-drainer")

    async def stop(self) -> None:
        # A flag, not only cancel(): a client library that swallows a CancelledError delivered in
        # the middle of its call would leave the loop running.
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        try:
            await self.drain_all(claim=False)
        except Exception as exc:  # the journal keeps whatever could not be written: another process writes it
            log.warning("settlement_drain_on_stop_failed", error=str(exc))
        await self._stream.leave()

    async def drain_all(self, *, claim: bool) -> int:
        """Rounds until one comes back short of a full batch; returns the entries written."""
        written = 0
        while True:
            drained = await self._drain(claim=claim)
            claim = False
            for entry in drained.dropped:
                log.error("journal_entry_dropped", entry_id=entry.id, entry=repr(entry.item)[:1000])
            written += drained.read
            if drained.read < self._batch:
                return written

    async def until_empty(self, timeout_s: float = 10.0) -> bool:
        """Drain until the journal is empty (entries another round holds are written by it);
        False when it is not empty by the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            await self.drain_all(claim=False)
            if await self._stream.backlog() == 0:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
                return
            now = time.monotonic()
            try:
                claim = now - self._last_claim >= self._claim_every
                if claim:
                    self._last_claim = now
                await self.drain_all(claim=claim)
                if now - self._last_sweep >= self._sweep_every:
                    self._last_sweep = now
                    if expired := await self._holds.expire(now=self._clock.now().timestamp()):
                        log.warning("holds_expired_unsettled", count=expired)
            except ServiceUnavailable as exc:
                log.warning("settlement_drain_failed", reason=exc.reason)
            except Exception as exc:
                log.exception("settlement_drain_crashed", error=str(exc))
