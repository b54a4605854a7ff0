"""The client address behind proxies: only what trusted proxies appended is believed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from litestar.connection import ASGIConnection

from adapters.http.guards import client_ip
from gatewayz.settings import Settings


def connection(peer: str | None, *forwarded: str, trusted: str = "") -> ASGIConnection[Any, Any, Any, Any]:
    settings = Settings.from_env({"TRUSTED_PROXIES": trusted})
    scope = {"type": "http", "litestar_app": SimpleNamespace(state=SimpleNamespace(settings=settings)),
             "client": (peer, 50000) if peer else None, "path": "/v1/chat/completions", "method": "POST",
             "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded]}
    return ASGIConnection(scope)  # type: ignore[arg-type]


def test_without_trusted_proxies_the_socket_peer_is_the_client() -> None:
    assert client_ip(connection("203.0.113.5", "1.2.3.4")) == "203.0.113.5"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_ip(connection("203.0.113.5", "1.2.3.4", trusted="10.0.0.0/8")) == "203.0.113.5"


@pytest.mark.parametrize(("forwarded", "expected"), [
    (("198.51.100.9",), "198.51.100.9"),
    (("6.6.6.6, 198.51.100.9",), "198.51.100.9"),            # the client's own prefix is not believed
    (("6.6.6.6", "198.51.100.9, 10.1.2.3"), "198.51.100.9"),  # several headers, our inner proxy skipped
    (("not-an-ip, 10.1.2.3",), "10.1.2.3"),                   # garbage: stop at the last vouched hop
    (("10.9.9.9, 10.1.2.3",), "10.9.9.9"),                    # all trusted: the farthest
    ((), "10.0.0.2"),                                         # no header: the proxy itself
])
def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(
        forwarded: tuple[str, ...], expected: str) -> None:
    assert client_ip(connection("10.0.0.2", *forwarded, trusted="10.0.0.0/8, 192.0.2.1")) == expected


def test_single_addresses_and_ipv6_are_supported_and_bad_entries_trust_nobody() -> None:
    assert client_ip(connection("192.0.2.1", "2001:db8::7", trusted="192.0.2.1")) == "2001:db8::7"
    assert client_ip(connection("::ffff:192.0.2.1", "198.51.100.1", trusted="192.0.2.1")) == "198.51.100.1"
    assert client_ip(connection("192.0.2.1", "198.51.100.1", trusted="bogus")) == "192.0.2.1"
    assert client_ip(connection(None, "198.51.100.1", trusted="10.0.0.0/8")) is None
