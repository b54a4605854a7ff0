"""Admission limits: the shared window counters and the per-key configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.limits import Decision, KeyLimits, LimitConfig


class RateLimiter(Protocol):
    """Applies domain/limits.py's GCRA at the caller's `now` (epoch seconds, from the Clock).
    Adapters that lose their backend raise `ServiceUnavailable(reason=...)`; when the outcome of an
    admission is unknown (its answer was lost), the error's `details["lease_id"]` names the lease it
    may have taken, so the caller can return it."""

    async def admit(self, subject: str, config: LimitConfig, tokens_estimate: int, now: float) -> Decision:
        """Check and consume every configured scope and take a concurrency lease, atomically, in one
        round trip; a refusal consumes nothing. Admitted decisions carry the lease id."""
        ...

    async def settle(self, subject: str, config: LimitConfig, lease_id: str, tokens_estimate: int,
                     actual_tokens: int | None, now: float) -> bool:
        """Release the lease and correct the token scopes by actual - estimate (None: keep the
        estimate). Idempotent: only the call that removes the lease corrects; returns whether it did."""
        ...

    async def concurrency(self, subject: str, now: float) -> int:
        """Leases held and not yet expired."""
        ...

    async def peek(self, subject: str, config: LimitConfig, now: float) -> Decision:
        """The subject's windows as they stand, consuming nothing (GET /user/rate-limits)."""
        ...


class LimitConfigRepository(Protocol):
    """rate_limit_configs: one optional override row per API key."""

    async def get(self, api_key_id: int) -> KeyLimits | None: ...

    async def put(self, api_key_id: int, limits: KeyLimits, *, now: datetime) -> KeyLimits:
        """Insert or replace the key's row; returns what is stored."""
        ...
