"""Per-key rate limits (admin) over the shared limit configs."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.limits import LimitsServices
from adapters.http.controllers.admin_limits import AdminLimitsController
from domain.services.key_limits import ClearRateLimitCache, SetKeyLimits


class LimitsArea(containers.DeclarativeContainer):
    key_directory = providers.Dependency()
    limit_configs = providers.Dependency()
    bus = providers.Dependency()
    clock = providers.Dependency()
    key_secret = providers.Dependency()
    admission = providers.Dependency()

    set_key_limits = providers.Singleton(SetKeyLimits, key_directory, limit_configs, bus, clock, key_secret,
                                         defaults=admission.provided.limits)
    clear_rate_limit_cache = providers.Singleton(ClearRateLimitCache, bus)
    bundle = providers.Singleton(LimitsServices, set_key_limits, clear_rate_limit_cache)


HTTP = Area("limits", [AdminLimitsController])
