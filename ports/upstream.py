"""Calling a provider: one interface for every provider kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from domain.catalog import Offer, Provider
from domain.inference import Chunk, Completion, InferenceRequest


class Upstream(Protocol):
    def usable(self, provider: Provider) -> bool:
        """True when the provider has credentials configured (its key env var is set)."""
        ...

    async def infer(self, provider: Provider, offer: Offer, request: InferenceRequest) -> Completion:
        """Raise domain.upstream errors (UpstreamError subclasses) on failure."""
        ...

    def infer_stream(self, provider: Provider, offer: Offer, request: InferenceRequest) -> AsyncIterator[Chunk]:
        """Chunks in order; the stream has not started until the first chunk is yielded: failures
        before it raise UpstreamError, failures after it raise UpstreamError from the iterator."""
        ...
