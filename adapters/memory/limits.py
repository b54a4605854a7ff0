"""In-process rate limiter and limit configs: the single-process twins of Redis and rate_limit_configs."""

from __future__ import annotations

import uuid
from datetime import datetime

from adapters.memory.store import MemoryStore
from domain import not_found
from domain.limits import Decision, KeyLimits, LimitConfig, Scope, corrected, decide, evaluate


class MemoryRateLimiter:
    """Atomic by construction: no await between reading and writing a subject's state. Idle subjects
    are swept now and then, so per-IP anonymous subjects cannot grow the heap without bound."""

    def __init__(self, *, lease_ttl_s: float = 300.0, sweep_every: int = 1024) -> None:
        self._tats: dict[str, dict[Scope, float]] = {}
        self._leases: dict[str, dict[str, float]] = {}
        self._lease_ttl = lease_ttl_s
        self._sweep_every = sweep_every
        self._calls = 0

    async def admit(self, subject: str, config: LimitConfig, tokens_estimate: int, now: float) -> Decision:
        self._calls += 1
        if self._calls % self._sweep_every == 0:
            self._sweep(now)
        leases = self._live_leases(subject, now)
        tats = self._tats.get(subject, {})
        decision, new = evaluate(config, tats, now, tokens_estimate, len(leases))
        if not decision.allowed:
            return decision
        self._tats[subject] = {**tats, **new}
        lease_id = uuid.uuid4().hex
        leases[lease_id] = now + self._lease_ttl
        self._leases[subject] = leases
        return Decision(allowed=True, statuses=decision.statuses, lease_id=lease_id)

    async def settle(self, subject: str, config: LimitConfig, lease_id: str, tokens_estimate: int,
                     actual_tokens: int | None, now: float) -> bool:
        leases = self._leases.get(subject)
        until = leases.pop(lease_id, None) if leases is not None else None
        if until is None or until <= now:  # unknown, already settled, or expired (its process died)
            return False
        if actual_tokens is not None:
            tats = self._tats.setdefault(subject, {})
            tats.update(corrected(config, tats, now, actual_tokens - tokens_estimate))
        return True

    async def concurrency(self, subject: str, now: float) -> int:
        return len(self._live_leases(subject, now))

    async def peek(self, subject: str, config: LimitConfig, now: float) -> Decision:
        return decide(config, allowed=True, violated=None, retry_after_s=0.0, tats=self._tats.get(subject, {}),
                      now=now, active=len(self._live_leases(subject, now)))

    def _live_leases(self, subject: str, now: float) -> dict[str, float]:
        leases = self._leases.get(subject, {})
        expired = [lease for lease, until in leases.items() if until <= now]
        for lease in expired:
            del leases[lease]
        return leases

    def _sweep(self, now: float) -> None:
        for subject in [s for s, tats in self._tats.items() if max(tats.values(), default=now) <= now]:
            del self._tats[subject]
        for subject in [s for s in self._leases if not self._live_leases(s, now)]:
            del self._leases[subject]


class MemoryLimitConfigRepository:
    """With a store, a key must exist in it (the SQL foreign key); without one, any id is accepted."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.rows: dict[int, tuple[KeyLimits, datetime]] = {}
        self._store = store

    async def get(self, api_key_id: int) -> KeyLimits | None:
        row = self.rows.get(api_key_id)
        return row[0] if row else None

    async def put(self, api_key_id: int, limits: KeyLimits, *, now: datetime) -> KeyLimits:
        if self._store is not None and api_key_id not in self._store.api_keys:
            raise not_found.api_key(api_key_id)
        self.rows[api_key_id] = (limits, now)
        return limits
