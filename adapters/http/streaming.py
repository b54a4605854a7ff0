"""Responses that always settle: SSE streams close their source, whole answers run `finish`, on
every exit path (sent, failed to send, client gone).

Litestar cancels a stream when the client disconnects but never closes the iterator; a generator
suspended at `yield` would then settle only when garbage-collected. Closing it here runs its
`finally` (settlement, slot release) deterministically."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


class ClosingStreamResponse(ASGIStreamingResponse):
    async def send_body(self, send: Any, receive: Any) -> None:
        try:
            await super().send_body(send, receive)
        finally:
            aclose = getattr(self.iterator, "aclose", None)
            if aclose is not None:
                await aclose()


def sse_response(events: AsyncIterator[bytes], headers: Mapping[str, str] | None = None) -> ClosingStreamResponse:
    return ClosingStreamResponse(iterator=events, media_type="text/event-stream", status_code=200,
                                 headers={**SSE_HEADERS, **(headers or {})})


class FinishingResponse(ASGIResponse):
    """A whole JSON answer whose settlement runs once the body is sent, or its sending failed."""

    def __init__(self, body: bytes, headers: Mapping[str, str], finish: Callable[[], Awaitable[None]]) -> None:
        super().__init__(body=body, media_type="application/json", status_code=200, headers=dict(headers))
        self._finish = finish

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._finish()
