"""Rate limits: per-key overrides and the config cache reset (admin)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.key_limits import ClearRateLimitCache, SetKeyLimits


@dataclass(frozen=True, slots=True)
class LimitsServices:
    set_key_limits: SetKeyLimits
    clear_rate_limit_cache: ClearRateLimitCache


# what a handler writes to receive it (`limits_services: LimitsBundle`)
LimitsBundle = NamedDependency[LimitsServices]
