"""A bounded, short-lived cache in front of the KeyDirectory, dropped on broadcast invalidation."""

from __future__ import annotations

import time
from collections import OrderedDict

from domain.api_keys import Principal
from domain.errors import ServiceUnavailable
from domain.invalidation import ALL, KEYS_TOPIC, USERS_TOPIC
from ports.accounts import KeyDirectory
from ports.bus import CacheBus


class CachedKeyDirectory:
    """Hits cost no I/O. When the database is lost, an entry past its TTL is still served
    (stale-if-error) so a valid key never turns into a 401 or a 503 because of an outage."""

    def __init__(self, inner: KeyDirectory, bus: CacheBus, *, ttl_s: float = 30.0, max_entries: int = 10_000,
                 stale_for_s: float = 600.0) -> None:
        self._inner = inner
        self._ttl = ttl_s
        self._stale_for = stale_for_s
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        bus.subscribe(KEYS_TOPIC, self._drop_key)
        bus.subscribe(USERS_TOPIC, self._drop_user)

    async def find(self, key_hash: str) -> Principal | None:
        now = time.monotonic()
        hit = self._entries.get(key_hash)
        if hit is not None and now - hit[0] < self._ttl:
            self._entries.move_to_end(key_hash)  # least recently used goes first when full
            return hit[1]
        try:
            principal = await self._inner.find(key_hash)
        except ServiceUnavailable:
            if hit is not None and hit[1] is not None and now - hit[0] < self._stale_for:
                return hit[1]
            raise
        self._entries[key_hash] = (now, principal)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return principal

    def _drop_key(self, key_hash: str) -> None:
        if key_hash == ALL:
            self._entries.clear()
        else:
            self._entries.pop(key_hash, None)

    def _drop_user(self, user_id: str) -> None:
        """A user changed (role, balance, deactivation): forget every key of theirs."""
        uid = int(user_id) if user_id != ALL else None
        for key_hash, (_, principal) in list(self._entries.items()):
            if uid is None or (principal is not None and principal.user.id == uid):
                self._entries.pop(key_hash, None)

    def __len__(self) -> int:
        return len(self._entries)
