"""Deny by default: every route declares an auth policy, and the public ones are a reviewed list."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Litestar, get

from adapters.http.guards import POLICIES, auth_guard
from gatewayz.app import create_app
from gatewayz.settings import Settings
from tests.conftest import settings_env

# Routes anyone may call without a key. Adding one is a security decision: extend this list in the same
# change that adds the route, so the review sees it.
PUBLIC_ROUTES: frozenset[str] = frozenset({
    "/health",
    "/health/ready",
    "/metrics",
    "/v1/models",  # the model list: clients discover models before holding a key
    "/models",
    "/v1/models/{model_id}",  # declared as {model_id:path}: ids contain slashes
    "/circuit-breakers",  # spec 05 (#1708): "Auth: None (public monitoring endpoint)"; resets are admin
    "/circuit-breakers/{provider}",  # spec 05 (#1709)
    "/api/diagnostics/concurrency",  # spec 09 (#1734): "Auth: None (public endpoint)"; load figures only
    "/api/diagnostics/provider-timing",  # spec 09 (#1735): public; slow-call counts per provider/model
    "/openapi.json",  # the API description (issue 9): no data, what every SDK generator reads
    "/schema",
    "/schema/openapi.json",
    "/schema/{path}",  # the documentation router's own 404 for unknown documentation pages
    "/v1/chat/completions/metrics/tokens-per-second",  # spec 04 (#1706): public, gated to the most used models
    "/v1/chat/completions/metrics/tokens-per-second/all",  # spec 04 (#1707): public, deliberately ungated
    # issue 13: how people get in (each limited per client IP)
    "/auth",  # spec 03 (#1645): Privy login, verified ES256 identity token
    "/auth/register",  # spec 03 (#1646)
    "/auth/login",  # issue 13's addition: email + password
    "/auth/password-reset",  # spec 03 (#1647): always the same answer
    "/auth/reset-password",  # spec 03 (#1648): the token is the credential
})


def the_app() -> Litestar:
    return create_app(Settings.from_env(settings_env()))


def handlers(app: Litestar) -> list[tuple[str, str, Any]]:
    """(path, methods, handler) for every registered handler, as the router resolved them."""
    found = []
    for route in app.routes:
        for handler in route.route_handlers:
            methods = ",".join(sorted(getattr(handler, "http_methods", None) or ["WS"]))
            found.append((route.path_format, methods, handler))
    return found


def is_generated_options(handler: Any) -> bool:
    """Litestar adds an OPTIONS handler per path; it inherits its owner's policy (a bare function's owner
    has none, and the guard then refuses everyone), so it needs the guard but no policy of its own."""
    return getattr(handler, "http_methods", None) == {"OPTIONS"} and handler.fn.__name__ == "options_handler"


def without_policy(app: Litestar) -> list[str]:
    """Handlers whose resolved `opt["auth"]` is missing or unknown, or that the auth guard does not cover."""
    problems = []
    for path, methods, handler in handlers(app):
        policy = handler.opt.get("auth")
        if policy not in POLICIES and not is_generated_options(handler):
            problems.append(f"{methods} {path}: auth policy {policy!r}")
        elif auth_guard not in handler.resolve_guards():
            problems.append(f"{methods} {path}: not behind auth_guard")
    return problems


# Open to anonymous callers although not public: a valid key identifies the caller, no key or a bad one
# is anonymous (the apps report events before login); limited per address instead.
IDENTIFY_ROUTES = {"/v1/analytics/events", "/v1/analytics/batch", "/v1/analytics/session/start"}


def identify_paths(app: Litestar) -> set[str]:
    return {path for path, _, handler in handlers(app) if handler.opt.get("auth") == "identify"}


def public_paths(app: Litestar) -> set[str]:
    return {path for path, _, handler in handlers(app) if handler.opt.get("auth") == "public"}


def test_every_route_declares_a_known_auth_policy_and_is_guarded() -> None:
    app = the_app()
    assert handlers(app), "the app registered no routes"
    assert without_policy(app) == []


def test_the_public_routes_are_exactly_the_reviewed_list() -> None:
    assert public_paths(the_app()) == PUBLIC_ROUTES


def test_every_keyed_route_names_a_known_scope() -> None:
    """`inference` for the data plane, `any` for read-only introspection, else (default) `account`."""
    scopes = {(path, handler.opt.get("scope", "account")) for path, _, handler in handlers(the_app())
              if handler.opt.get("auth") in ("user", "optional", "admin")}
    assert {scope for _, scope in scopes} <= {"inference", "account", "any"}, scopes
    inference = {path for path, scope in scopes if scope == "inference"}
    assert {"/v1/chat/completions", "/v1/messages", "/api/chat/ai-sdk"} <= inference, inference
    assert not {p for p in inference if p.startswith(("/user", "/admin", "/coupons", "/credits"))}, inference


def test_the_routes_open_to_anonymous_callers_are_exactly_the_reviewed_list() -> None:
    assert identify_paths(the_app()) == IDENTIFY_ROUTES


def test_admin_routes_require_the_admin_policy() -> None:
    admin = [(path, handler.opt.get("auth")) for path, _, handler in handlers(the_app()) if path.startswith("/admin")]
    assert admin, "no admin routes found"
    assert {policy for _, policy in admin} <= {"admin", "env_key"}, admin


class Sloppy(Controller):
    path = "/sloppy"

    @get("/", operation_id="sloppy")
    async def sloppy(self) -> str:
        return "open"

    @get("/typo", operation_id="typo", opt={"auth": "pubic"})
    async def typo(self) -> str:
        return "open"


@get("/fine", operation_id="fine", opt={"auth": "user"})
async def fine() -> str:
    return "fine"


@get("/unguarded", operation_id="unguarded", opt={"auth": "public"})
async def unguarded() -> str:
    return "open"


def test_the_inventory_catches_a_route_without_policy_a_misspelt_policy_and_a_missing_guard() -> None:
    app = Litestar(route_handlers=[Sloppy, fine], guards=[auth_guard], openapi_config=None)
    problems = without_policy(app)
    assert any(p.startswith("GET /sloppy:") for p in problems), problems
    assert any(p.startswith("GET /sloppy/typo:") and "pubic" in p for p in problems), problems
    assert not any("/fine" in p for p in problems), problems
    unguarded_app = Litestar(route_handlers=[unguarded], openapi_config=None)
    assert any("not behind auth_guard" in p for p in without_policy(unguarded_app))
