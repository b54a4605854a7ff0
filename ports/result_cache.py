"""Short-lived computed answers shared by every process (Redis), or kept in-process without Redis.
A failing cache raises CacheUnavailable; callers then answer uncached."""

from __future__ import annotations

from typing import Protocol


class CacheUnavailable(Exception):
    pass


class ResultCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl_s: int) -> None: ...

    async def delete(self, key: str) -> None: ...
