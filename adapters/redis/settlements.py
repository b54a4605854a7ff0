"""The settlement journal in Redis: a stream read through a consumer group by every process.

Entries are appended by the hold scripts (adapters/redis/holds.py). A drainer reads new entries
(`read`), takes over entries another consumer left unacknowledged for longer than `claim_idle_s`
(`claim_stale`, XAUTOCLAIM: that consumer died, or is stuck), and acknowledges entries only once
they are written (`ack`: XACK + XDEL, and their charges leave the unposted totals, in one script).
Reads never block: the socket timeout is short (adapters/redis/client.py) and the drainer polls."""

from __future__ import annotations

import os
import socket
import uuid
from decimal import ROUND_CEILING, Decimal
from typing import Any

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from adapters.redis.holds import MICRO, JournalKeys, _script
from domain.errors import ServiceUnavailable
from domain.settlements import ExpiredHold, JournalEntry, SettledRequest

log = structlog.get_logger(__name__)
GROUP = "ledger-writers"
_decode = msgspec.json.Decoder(SettledRequest).decode


def consumer_name() -> str:
    """Unique per process and start: a restarted process must not inherit a dead one's entries silently."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse(entry_id: bytes | str, fields: dict[Any, Any]) -> JournalEntry:
    """One stream entry as the domain's JournalEntry (item None when it cannot be read)."""
    data = {_text(k): v for k, v in fields.items()}
    try:
        if data.get("k") == b"s":
            return JournalEntry(id=_text(entry_id), item=_decode(data["e"]))
        if data.get("k") == b"x":
            return JournalEntry(id=_text(entry_id), item=ExpiredHold(
                user_id=int(data["u"]), request_id=_text(data["r"]), amount=Decimal(int(data["m"])) * MICRO,
                expired_at=float(data["t"])))
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError) as exc:
        log.error("journal_entry_unreadable", entry_id=_text(entry_id), error=str(exc))
    return JournalEntry(id=_text(entry_id), item=None)


def _micro(amount: Decimal) -> int:
    return int((amount / MICRO).to_integral_value(rounding=ROUND_CEILING))


class RedisSettlementStream:
    def __init__(self, client: aioredis.Redis, prefix: str, *, consumer: str | None = None,
                 claim_idle_s: float = 15.0) -> None:
        self._r = client
        self._keys = JournalKeys(prefix)
        self.consumer = consumer or consumer_name()
        self._idle_ms = max(int(claim_idle_s * 1000), 1)
        self._cursor = "0-0"
        self._group_ready = False
        self._ack = client.register_script(_script("journal_ack.lua"))

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:  # from the start of the stream: entries journaled before any drainer existed are read too
            await self._r.xgroup_create(self._keys.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def read(self, count: int) -> list[JournalEntry]:
        try:
            await self._ensure_group()
            reply = await self._r.xreadgroup(GROUP, self.consumer, {self._keys.stream: ">"}, count=count)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream was deleted (FLUSHALL): make the group again
                self._group_ready = False
                return []
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc
        return [parse(eid, fields) for _, entries in reply or [] for eid, fields in entries]

    async def claim_stale(self, count: int) -> list[JournalEntry]:
        try:
            await self._ensure_group()
            cursor, entries, *_ = await self._r.xautoclaim(self._keys.stream, GROUP, self.consumer,
                                                           self._idle_ms, start_id=self._cursor, count=count)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                self._group_ready = False
                return []
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc
        self._cursor = _text(cursor)
        claimed = [parse(eid, fields) for eid, fields in entries if fields is not None]
        if claimed:
            log.warning("journal_entries_claimed", count=len(claimed), consumer=self.consumer)
        return claimed

    async def ack(self, entries: list[JournalEntry]) -> None:
        if not entries:
            return
        args: list[Any] = [GROUP]
        for e in entries:
            charge = e.item.charge if isinstance(e.item, SettledRequest) else None
            args += [e.id, charge.user_id, _micro(charge.amount)] if charge else [e.id, "", 0]
        try:
            await self._ack(keys=[self._keys.stream, self._keys.unposted], args=args)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc

    async def backlog(self) -> int:
        try:
            return int(await self._r.xlen(self._keys.stream))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Settlement journal unavailable", reason="redis") from exc

    async def leave(self) -> None:
        """Graceful stop: unregister this consumer when it holds nothing unacknowledged."""
        try:
            pending = await self._r.xpending_range(self._keys.stream, GROUP, min="-", max="+", count=1,
                                                   consumername=self.consumer)
            if not pending:
                await self._r.xgroup_delconsumer(self._keys.stream, GROUP, self.consumer)
        except (RedisError, OSError) as exc:
            log.warning("journal_leave_failed", error=str(exc))
