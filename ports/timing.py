"""Per-provider response times, fed by the dispatch loop and read by diagnostics (#1735)."""

from __future__ import annotations

from typing import Protocol

from domain.timing import ProviderTiming


class ProviderTimings(Protocol):
    def observe(self, provider: str, seconds: float, ok: bool, *, model: str | None = None) -> None:
        """Record one upstream call (synchronous and cheap: it sits on the request path)."""
        ...

    def snapshot(self) -> list[ProviderTiming]:
        """Rolling statistics per provider (and model, when observed with one)."""
        ...
