"""Deny-by-default authentication: every route declares `opt={"auth": ...}` or nobody gets in."""

from __future__ import annotations

import hmac
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from domain.api_keys import Principal
from domain.errors import AuthenticationRequired, Forbidden, InvalidApiKey

AuthPolicy = Literal["public", "optional", "user", "admin", "env_key"]
POLICIES: frozenset[str] = frozenset({"public", "optional", "user", "admin", "env_key"})


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Bearer token first, then Anthropic-style `x-api-key`."""
    headers = connection.headers
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return headers.get("x-api-key") or None


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    client = connection.scope.get("client")
    return client[0] if client else None


async def auth_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    policy = handler.opt.get("auth")
    if policy not in POLICIES:
        raise Forbidden("Route has no auth policy")
    if policy == "public":
        return
    services = connection.app.state.services
    key = presented_key(connection)
    if policy == "env_key":
        expected = services.admin_api_key
        if not key:
            raise AuthenticationRequired()
        if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
            raise InvalidApiKey()
        return
    if policy == "optional" and key is None:
        connection.state.principal = None
        return
    principal: Principal = await services.authenticate(key)
    connection.state.principal = principal
    if policy == "admin":
        await services.authorize_admin(principal, method=connection.scope.get("method", "GET"),
                                       path=connection.url.path, client_ip=client_ip(connection))
