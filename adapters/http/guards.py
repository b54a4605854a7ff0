"""Deny-by-default authentication: every route declares `opt={"auth": ...}` or nobody gets in.

A keyed route also names the scope it needs (`opt["scope"]`: `inference` for the data plane,
`any` for read-only introspection, else `account`)."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from typing import Any, Literal
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from adapters.http.bundles.auth import AuthServices
from domain.api_keys import Principal
from domain.errors import AuthenticationRequired, Forbidden, InvalidApiKey

# optional: no key is anonymous, a bad key is a 401; identify: a bad key is anonymous too (routes
# the apps call before login, such as analytics events)
AuthPolicy = Literal["public", "optional", "identify", "user", "admin", "env_key"]
POLICIES: frozenset[str] = frozenset({"public", "optional", "identify", "user", "admin", "env_key"})


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
    """The socket peer, unless the peer is a trusted proxy (TRUSTED_PROXIES, addresses or CIDRs):
    then the right-most X-Forwarded-For address that is not itself a trusted proxy. A client can
    prepend anything to the header; only what our own proxies appended is believed."""
    client = connection.scope.get("client")
    peer = client[0] if client else None
    settings = getattr(connection.app.state, "settings", None)
    trusted = _networks(tuple(getattr(settings, "trusted_proxies", ()) or ()))
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in connection.headers.getall("x-forwarded-for", [])
            for h in value.split(",") if h.strip()]
    nearest = peer
    for hop in reversed(hops):
        if _parse(hop) is None:
            break  # garbage a client wrote: stop at the last hop our proxies vouched for
        if not _is_trusted(hop, trusted):
            return hop
        nearest = hop
    return nearest


def origin_host(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The host of `Origin`, else of `Referer` (what a key's domain_referrers are matched against)."""
    for header in ("origin", "referer"):
        value = connection.headers.get(header)
        if value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                return None
            return host.lower() if host else None
    return None


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # an unparsable entry trusts nobody (fails safe)
    return tuple(nets)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_trusted(address: str, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    ip = _parse(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in trusted)


async def auth_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    policy = handler.opt.get("auth")
    if policy not in POLICIES:
        raise Forbidden("Route has no auth policy")
    if policy == "public":
        return
    auth: AuthServices = connection.app.state.auth
    key = presented_key(connection)
    if policy == "env_key":
        expected = auth.admin_api_key
        if not key:
            raise AuthenticationRequired()
        if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
            raise InvalidApiKey()
        return
    if policy in ("optional", "identify") and key is None:
        connection.state.principal = None
        return
    if policy == "identify":
        try:
            connection.state.principal = await auth.authenticate(key)
        except (InvalidApiKey, AuthenticationRequired, Forbidden):
            connection.state.principal = None
        return
    principal: Principal = await auth.authenticate(key)
    restricted = bool(principal.key.ip_allowlist or principal.key.domain_referrers)
    auth.authenticate.admit(principal, scope=handler.opt.get("scope", "account"),
                            client_ip=client_ip(connection) if restricted else None,
                            origin_host=origin_host(connection) if restricted else None)
    connection.state.principal = principal
    if policy == "admin":
        await auth.authorize_admin(principal, method=connection.scope.get("method", "GET"),
                                       path=connection.url.path, client_ip=client_ip(connection))
