"""SSE responses that always close their source, so settlement runs on every exit path.

Litestar cancels a stream when the client disconnects but never closes the iterator; a generator
suspended at `yield` would then settle only when garbage-collected. Closing it here runs its
`finally` (settlement, slot release) deterministically."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

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
