"""In-process cache bus: the single-process twin of the Redis broadcast."""

from __future__ import annotations

import inspect
from collections import defaultdict

from ports.bus import Handler


class MemoryCacheBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.published: list[tuple[str, str]] = []

    async def publish(self, topic: str, message: str) -> None:
        self.published.append((topic, message))
        for handler in list(self._handlers[topic]):
            result = handler(message)
            if inspect.isawaitable(result):
                await result

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)
