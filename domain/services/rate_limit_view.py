"""ShowRateLimits (GET /user/rate-limits): each active key's effective limits and where its windows
stand, read from the limiter without consuming anything. Read-only on purpose: users do not set
their own limits (the original let them raise them without a cap)."""

from __future__ import annotations

import msgspec

from domain.api_keys import ApiKey
from domain.limits import PERIOD_S, RATE_SCOPES, LimitConfig, Scope, key_subject
from ports.clock import Clock
from ports.limits import LimitConfigRepository, RateLimiter
from ports.uow import UnitOfWorkFactory

_WINDOW = {60.0: "minute", 3600.0: "hour", 86400.0: "day"}


class KeyLimitView(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    custom: bool
    limits: dict[str, int | None]
    usage: dict[str, int]
    resets_in_seconds: dict[str, int]


class ShowRateLimits:
    def __init__(self, uow: UnitOfWorkFactory, limiter: RateLimiter, configs: LimitConfigRepository,
                 defaults: LimitConfig, clock: Clock) -> None:
        self._uow = uow
        self._limiter = limiter
        self._configs = configs
        self._defaults = defaults
        self._clock = clock

    async def __call__(self, user_id: int) -> list[KeyLimitView]:
        now = self._clock.now()
        async with self._uow() as uow:
            keys = [k for k in await uow.api_keys.list_for_user(user_id) if k.usable_at(now)]
        views = []
        for key in keys:
            overrides = await self._configs.get(key.id)
            config = self._defaults.with_overrides(overrides)
            decision = await self._limiter.peek(key_subject(key.id), config, now.timestamp())
            usage: dict[str, int] = {}
            resets = {"minute": 0, "hour": 0, "day": 0}
            for status in decision.statuses:
                if status.scope is Scope.CONCURRENT_REQUESTS:
                    usage["in_flight"] = status.limit - status.remaining
                    continue
                usage[status.scope.value] = status.limit - status.remaining
                window = _WINDOW[PERIOD_S[status.scope]]
                resets[window] = max(resets[window], int(-(-status.reset_s // 1)))
            for scope in RATE_SCOPES:
                usage.setdefault(scope.value, 0)
            usage.setdefault("in_flight", 0)
            views.append(KeyLimitView(
                key=key, custom=overrides is not None,
                limits={s.value: config.limit(s) for s in Scope}, usage=usage, resets_in_seconds=resets))
        return views
