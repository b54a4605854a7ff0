"""Cache invalidation broadcast: a change in one process drops every process's copy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

Handler = Callable[[str], Awaitable[None] | None]


class CacheBus(Protocol):
    async def publish(self, topic: str, message: str) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Register a handler called with every message of `topic`, this process's own included."""
        ...
