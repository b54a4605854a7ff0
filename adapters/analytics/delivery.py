"""One JSON POST per batch; the answer's status decides whether a failure is worth a retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from domain.analytics import AnalyticsEvent
from ports.analytics import DeliveryFailed

Encoder = Callable[[list[AnalyticsEvent]], dict[str, Any]]


class HttpSink:
    def __init__(self, name: str, session: aiohttp.ClientSession, url: str, encode: Encoder,
                 headers: dict[str, str] | None = None) -> None:
        self.name = name
        self._session = session
        self._url = url
        self._encode = encode
        self._headers = headers or {}

    async def send(self, events: list[AnalyticsEvent]) -> None:
        try:
            async with self._session.post(self._url, json=self._encode(events), headers=self._headers) as response:
                if response.status < 300:
                    return
                text = (await response.text())[:200]
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(type(exc).__name__, retryable=True) from exc
        # 5xx and 429 are the service's trouble and pass; any other 4xx will never be accepted
        raise DeliveryFailed(f"HTTP {response.status}: {text}",
                             retryable=response.status >= 500 or response.status == 429)
