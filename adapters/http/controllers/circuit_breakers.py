"""Circuit breakers (#1708-#1711). Reads are public monitoring, as the spec documents; the resets
change routing for every client, so they need the admin role (the seed left them open)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath

from adapters.http.bundles.breakers import BreakersBundle
from adapters.http.schemas.circuit_breakers import BreakerOut, BreakerResetOut, BreakersOut, BreakersResetOut


class CircuitBreakersController(Controller):
    path = "/circuit-breakers"
    tags = ["circuit-breakers", "monitoring"]

    @get("/", operation_id="circuit_breakers_list", opt={"auth": "public"})
    async def list_breakers(self, breakers_services: BreakersBundle) -> BreakersOut:
        return BreakersOut.of(await breakers_services.list_breakers())

    @get("/{provider:str}", operation_id="circuit_breakers_show", opt={"auth": "public"})
    async def show(self, breakers_services: BreakersBundle, provider: FromPath[str]) -> BreakerOut:
        return BreakerOut.of(await breakers_services.show_breaker(provider))

    @post("/reset-all", operation_id="circuit_breakers_reset_all", status_code=200, opt={"auth": "admin"})
    async def reset_all(self, breakers_services: BreakersBundle) -> BreakersResetOut:
        reports = await breakers_services.reset_all_breakers()
        return BreakersResetOut(success=True, message="All circuit breakers have been reset",
                                reset_count=len(reports), states={r.provider: BreakerOut.of(r) for r in reports})

    @post("/{provider:str}/reset", operation_id="circuit_breakers_reset", status_code=200, opt={"auth": "admin"})
    async def reset(self, breakers_services: BreakersBundle, provider: FromPath[str]) -> BreakerResetOut:
        report = await breakers_services.reset_breaker(provider)
        return BreakerResetOut(success=True, message=f"Circuit breaker for '{provider}' has been reset",
                               state=BreakerOut.of(report))
