"""The Litestar app factory: routes, middleware, error table, and the lifespan that wires the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.middleware import DefineMiddleware

from adapters.http.concurrency_gate import ConcurrencyGateMiddleware
from adapters.http.controllers.admin_coupons import AdminCouponsController
from adapters.http.controllers.admin_credits import AdminCreditsController
from adapters.http.controllers.admin_limits import AdminLimitsController
from adapters.http.controllers.admin_users import AdminUsersController
from adapters.http.controllers.ai_sdk import AISDKController
from adapters.http.controllers.chat import ChatController
from adapters.http.controllers.circuit_breakers import CircuitBreakersController
from adapters.http.controllers.coupons import CouponsController
from adapters.http.controllers.credits import CreditsController
from adapters.http.controllers.diagnostics import DiagnosticsController
from adapters.http.controllers.health import HealthController
from adapters.http.controllers.messages import MessagesController
from adapters.http.controllers.metrics import MetricsController
from adapters.http.controllers.models import ModelsController
from adapters.http.controllers.user_balance import UserBalanceController
from adapters.http.errors import exception_handlers
from adapters.http.guards import auth_guard
from adapters.http.metrics import HttpMetrics
from adapters.http.middleware import RequestContextMiddleware
from adapters.http.openapi import openapi_config, openapi_document
from adapters.http.services import HttpServices
from gatewayz.container import Container, build_container, resolve
from gatewayz.limits import concurrency_gate
from gatewayz.logging import configure_logging
from gatewayz.settings import Settings
from gatewayz.version import __version__

ROUTES = [HealthController, MetricsController, AdminUsersController, ModelsController, ChatController,
          MessagesController, AISDKController,
          CircuitBreakersController, AdminLimitsController, DiagnosticsController,
          CouponsController, AdminCouponsController,
          AdminCreditsController, CreditsController, UserBalanceController, openapi_document]


async def _resolve(container: Container) -> HttpServices:
    settings = container.settings()
    return HttpServices(
        authenticate=await resolve(container.authenticate),
        authorize_admin=await resolve(container.authorize_admin),
        check_readiness=await resolve(container.check_readiness),
        count_users=await resolve(container.count_users),
        list_users=await resolve(container.list_users),
        show_user=await resolve(container.show_user),
        list_models=await resolve(container.list_models),
        get_model=await resolve(container.get_model),
        list_breakers=await resolve(container.list_breakers),
        show_breaker=await resolve(container.show_breaker),
        reset_breaker=await resolve(container.reset_breaker),
        reset_all_breakers=await resolve(container.reset_all_breakers),
        chat_completion=await resolve(container.chat_completion),
        set_key_limits=await resolve(container.set_key_limits),
        clear_rate_limit_cache=await resolve(container.clear_rate_limit_cache),
        summarize_provider_timings=await resolve(container.summarize_provider_timings),
        redeem_coupon=await resolve(container.redeem_coupon),
        list_available_coupons=await resolve(container.list_available_coupons),
        get_redemption_history=await resolve(container.get_redemption_history),
        create_coupon=await resolve(container.create_coupon),
        list_coupons=await resolve(container.list_coupons),
        get_coupon=await resolve(container.get_coupon),
        get_coupon_stats=await resolve(container.get_coupon_stats),
        get_coupon_analytics=await resolve(container.get_coupon_analytics),
        update_coupon=await resolve(container.update_coupon),
        deactivate_coupon=await resolve(container.deactivate_coupon),
        grant_credits=await resolve(container.grant_credits),
        add_credits=await resolve(container.add_credits),
        adjust_credits=await resolve(container.adjust_credits),
        bulk_add_credits=await resolve(container.bulk_add_credits),
        refund_credits=await resolve(container.refund_credits),
        search_transactions=await resolve(container.search_transactions),
        summarize_credits=await resolve(container.summarize_credits),
        get_balance=await resolve(container.get_balance),
        list_own_transactions=await resolve(container.list_own_transactions),
        admin_api_key=settings.admin_api_key,
    )


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    container = container or build_container(settings)
    metrics = HttpMetrics(container.registry())
    gate = concurrency_gate(settings, container.registry())  # None: CONCURRENCY_LIMIT=0

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.init_resources()  # type: ignore[misc]
        try:
            app.state.services = await _resolve(container)
            yield
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    app = Litestar(
        route_handlers=ROUTES,
        guards=[auth_guard],
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(ConcurrencyGateMiddleware, gate=gate)] if gate else [],
        lifespan=[lifespan],
        debug=False,
        openapi_config=openapi_config(__version__),
    )
    # Outermost, so that unrouted requests (404, 405) get a request id and are counted too.
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, metrics)  # type: ignore[method-assign]
    app.state.metrics = metrics
    app.state.container = container
    app.state.settings = settings
    app.state.gate = gate
    return app


def app_from_env() -> Litestar:
    """ASGI factory for servers (`granian --factory gatewayz.app:app_from_env`)."""
    return create_app(Settings.from_env())
