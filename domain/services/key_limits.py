"""SetKeyLimits (#1624) and ClearRateLimitCache (#1627): change or reload per-key limits in every
process at once (the change is broadcast; no process keeps a stale copy)."""

from __future__ import annotations

from domain.api_keys import hash_key, looks_like_key
from domain.errors import GatewayError, NotFound
from domain.invalidation import ALL, LIMITS_TOPIC
from domain.limits import KeyLimits, LimitConfig
from ports.accounts import KeyDirectory
from ports.bus import CacheBus
from ports.clock import Clock
from ports.limits import LimitConfigRepository


class UnknownApiKey(GatewayError):
    """The seed answers 400 (its ValueError) when the key to configure does not exist."""

    code = "api_key_not_found"

    def __init__(self) -> None:
        super().__init__("API key not found")  # GatewayError without a mapped status: 400


class SetKeyLimits:
    def __init__(self, directory: KeyDirectory, configs: LimitConfigRepository, bus: CacheBus, clock: Clock,
                 key_secret: bytes, *, defaults: LimitConfig | None = None) -> None:
        self._directory = directory
        self._configs = configs
        self._bus = bus
        self._clock = clock
        self._secret = key_secret
        self._defaults = defaults or LimitConfig()

    async def __call__(self, api_key: str, limits: KeyLimits) -> LimitConfig:
        """Store the key's overrides, minute and day scopes derived from hourly ones the request left
        out (`KeyLimits.derived`); returns its effective limits (defaults where still unset)."""
        if not looks_like_key(api_key):
            raise UnknownApiKey()
        principal = await self._directory.find(hash_key(self._secret, api_key))
        if principal is None:
            raise UnknownApiKey()
        try:
            stored = await self._configs.put(principal.key.id, limits.derived(), now=self._clock.now())
        except NotFound as exc:
            raise UnknownApiKey() from exc
        await self._bus.publish(LIMITS_TOPIC, str(principal.key.id))
        return self._defaults.with_overrides(stored)


class ClearRateLimitCache:
    """Every process drops its cached limit configs; the shared window counters are untouched."""

    def __init__(self, bus: CacheBus) -> None:
        self._bus = bus

    async def __call__(self) -> None:
        await self._bus.publish(LIMITS_TOPIC, ALL)
