"""Per-key rate limits (#1624) and the config cache reset (#1627), admin only."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, post
from litestar.params import JSONBody

from adapters.http.bundles.limits import LimitsBundle
from adapters.http.schemas.admin_limits import (
    ClearRateLimitCacheOut,
    RateLimitsOut,
    SetRateLimitIn,
    SetRateLimitOut,
)


class AdminLimitsController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @post("/limit", operation_id="admin_set_rate_limits", status_code=200)
    async def set_limit(self, limits_services: LimitsBundle, data: JSONBody[SetRateLimitIn]) -> SetRateLimitOut:
        effective = await limits_services.set_key_limits(data.api_key, data.rate_limits.to_domain())
        return SetRateLimitOut(status="success", message=f"Rate limits updated for user {data.api_key[:10]}...",
                               rate_limits=RateLimitsOut.of(effective))

    @post("/clear-rate-limit-cache", operation_id="admin_clear_rate_limit_cache", status_code=200)
    async def clear_cache(self, limits_services: LimitsBundle) -> ClearRateLimitCacheOut:
        await limits_services.clear_rate_limit_cache()
        return ClearRateLimitCacheOut(
            status="success",
            message="Rate limit cache cleared successfully. New requests will reload configuration.",
            timestamp=datetime.now(UTC).isoformat())
