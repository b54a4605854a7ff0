"""Holds in Redis, so admission is atomic across every gateway process.

Redis mirrors each user's balance (primed from the ledger, expiring after `mirror_ttl_s` so any
drift heals) in integer micro-USD: holds round up and the balance rounds down, so Redis can only
ever be more cautious than the ledger, which stays the exact truth in PostgreSQL."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from importlib import resources

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable
from domain.holds import BalanceUnknown, Hold, Reservation

MICRO = Decimal("0.000001")


def _micro(amount: Decimal, rounding: str) -> int:
    return int((amount / MICRO).to_integral_value(rounding=rounding))


def _usd(micro: int | bytes | str) -> Decimal:
    return Decimal(int(micro)) * MICRO


def _script(name: str) -> str:
    return resources.files("adapters.redis").joinpath("scripts", name).read_text()


class RedisHoldStore:
    def __init__(self, client: aioredis.Redis, prefix: str, *, mirror_ttl_s: int = 300,
                 marker_ttl_s: int = 86_400) -> None:
        self._r = client
        self._p = prefix
        self._mirror_ttl = mirror_ttl_s
        self._marker_ttl = marker_ttl_s
        self._reserve = client.register_script(_script("holds_reserve.lua"))
        self._settle = client.register_script(_script("holds_settle.lua"))

    def _keys(self, user_id: int) -> list[str]:
        tag = f"{{u:{user_id}}}"  # one hash slot per user (Redis Cluster)
        return [f"{self._p}bal:{tag}", f"{self._p}hold:{tag}", f"{self._p}holdexp:{tag}"]

    async def reserve(self, user_id: int, request_id: str, amount: Decimal, *, now: float,
                      ttl_s: float) -> Reservation:
        args = [request_id, _micro(amount, ROUND_CEILING), now, now + ttl_s, int(ttl_s) + 60]
        try:
            status, available, held = await self._reserve(keys=self._keys(user_id), args=args)
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

    async def settle(self, user_id: int, request_id: str, charged: Decimal) -> bool:
        keys = [*self._keys(user_id), f"{self._p}settled:{{u:{user_id}}}:{request_id}"]
        try:
            return bool(await self._settle(keys=keys, args=[request_id, _micro(charged, ROUND_CEILING),
                                                            self._marker_ttl]))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Credit holds unavailable", reason="redis") from exc

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
