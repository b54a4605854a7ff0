"""Holds in Redis, so admission is atomic across every gateway process.

Redis mirrors each user's balance (primed from the ledger, expiring after `mirror_ttl_s` so any
drift heals) in integer micro-USD: holds round up and the balance rounds down, so Redis can only
ever be more cautious than the ledger, which stays the exact truth in PostgreSQL.

Settlement journals: the settle script appends the settlement to the journal stream (see
adapters/redis/settlements.py, which drains it) and adds its charge to the user's unposted total in
the same call; holds that lapse unsettled are journaled as expiries (by the next reserve of their
user, or by `expire`, which every process's drainer runs)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from importlib import resources

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable
from domain.holds import BalanceUnknown, Hold, Reservation
from domain.settlements import SettledRequest

MICRO = Decimal("0.000001")


def _micro(amount: Decimal, rounding: str) -> int:
    return int((amount / MICRO).to_integral_value(rounding=rounding))


def _usd(micro: int | bytes | str) -> Decimal:
    return Decimal(int(micro)) * MICRO


def _script(name: str) -> str:
    return resources.files("adapters.redis").joinpath("scripts", name).read_text()


class JournalKeys:
    """The keys the hold scripts and the journal's drainer share."""

    def __init__(self, prefix: str) -> None:
        self.stream = f"{prefix}journal"          # settlements and expiries, until written and acknowledged
        self.unposted = f"{prefix}unposted"       # user id -> micro-USD journaled and not yet acknowledged
        self.due = f"{prefix}holds:due"           # every open hold, "<user>:<rid>" -> expiry


_encode = msgspec.json.Encoder().encode


class RedisHoldStore:
    def __init__(self, client: aioredis.Redis, prefix: str, *, mirror_ttl_s: int = 300,
                 marker_ttl_s: int = 86_400) -> None:
        self._r = client
        self._p = prefix
        self._mirror_ttl = mirror_ttl_s
        self._marker_ttl = marker_ttl_s
        self._journal = JournalKeys(prefix)
        self._reserve = client.register_script(_script("holds_reserve.lua"))
        self._settle = client.register_script(_script("holds_settle.lua"))
        self._sweep = client.register_script(_script("holds_sweep.lua"))

    journaled = True  # settle(entry=...) appends the entry to the journal, durably, in the same call

    def _keys(self, user_id: int) -> list[str]:
        tag = f"{{u:{user_id}}}"  # one hash slot per user (Redis Cluster)
        return [f"{self._p}bal:{tag}", f"{self._p}hold:{tag}", f"{self._p}holdexp:{tag}"]

    async def reserve(self, user_id: int, request_id: str, amount: Decimal, *, now: float,
                      ttl_s: float) -> Reservation:
        args = [request_id, _micro(amount, ROUND_CEILING), now, now + ttl_s, int(ttl_s) + 60, user_id]
        keys = [*self._keys(user_id), self._journal.due, self._journal.stream]
        try:
            status, available, held = await self._reserve(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc
        if int(status) == -1:
            raise BalanceUnknown(user_id)
        return Reservation(accepted=int(status) == 1, available=_usd(available), held=_usd(held))

    async def prime(self, user_id: int, balance: Decimal) -> None:
        try:
            await self._r.set(self._keys(user_id)[0], _micro(balance, ROUND_FLOOR), nx=True, ex=self._mirror_ttl)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc

    async def settle(self, user_id: int, request_id: str, charged: Decimal, *,
                     entry: SettledRequest | None = None) -> bool:
        j = self._journal
        keys = [*self._keys(user_id), f"{self._p}settled:{{u:{user_id}}}:{request_id}", j.stream, j.unposted, j.due]
        args = [request_id, _micro(charged, ROUND_CEILING), self._marker_ttl, user_id,
                _encode(entry) if entry is not None else b""]
        try:
            return bool(await self._settle(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc

    async def expire(self, *, now: float, limit: int = 500) -> int:
        try:
            return int(await self._sweep(keys=[self._journal.due, self._journal.stream], args=[now, limit, self._p]))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc

    async def unposted(self, user_id: int) -> Decimal:
        try:
            micro = await self._r.hget(self._journal.unposted, str(user_id))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc
        return _usd(micro) if micro is not None else Decimal(0)

    async def forget_balance(self, user_id: int) -> None:
        try:
            await self._r.delete(self._keys(user_id)[0])
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc

    async def held(self, user_id: int, *, now: float) -> Decimal:
        _, holds_key, expiries_key = self._keys(user_id)
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                amounts, expiries = await pipe.hgetall(holds_key).zrange(expiries_key, 0, -1,
                                                                         withscores=True).execute()
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc
        live = {rid for rid, expires in expiries if float(expires) > now}
        return sum((_usd(micro) for rid, micro in amounts.items() if rid in live), Decimal(0))

    async def open_holds(self, *, now: float) -> list[Hold]:
        holds: list[Hold] = []
        try:
            async for key in self._r.scan_iter(match=f"{self._p}hold:*", count=500):
                name = key.decode()
                user_id = int(name[name.index("{u:") + 3:name.index("}")])
                expiries = dict(await self._r.zrange(self._keys(user_id)[2], 0, -1, withscores=True))
                for rid, micro in (await self._r.hgetall(key)).items():
                    expires = float(expiries.get(rid, 0))
                    if expires > now:
                        holds.append(Hold(user_id=user_id, request_id=rid.decode(), amount=_usd(micro),
                                          expires_at=expires))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc
        return holds
