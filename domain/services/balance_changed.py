"""BalanceChanged: after a committed balance change outside settlement (grant, adjustment, refund),
the hold store re-reads the balance and every process's caches drop the user."""

from __future__ import annotations

from collections.abc import Iterable

from domain.invalidation import USERS_TOPIC
from ports.bus import CacheBus
from ports.holds import HoldStore


class BalanceChanged:
    def __init__(self, bus: CacheBus, holds: HoldStore | None = None) -> None:
        self._bus = bus
        self._holds = holds

    async def __call__(self, user_ids: Iterable[int]) -> None:
        for user_id in dict.fromkeys(user_ids):
            if self._holds is not None:
                await self._holds.forget_balance(user_id)
            await self._bus.publish(USERS_TOPIC, str(user_id))
