"""A provider resolved for calling: where, with which headers and quirks, and what to keep secret.

Built once per provider (env and profile do not change per request) so the hot path only looks it up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from adapters.providers.errors import payload_error, status_error
from adapters.providers.profiles import Profile
from domain.upstream import UpstreamError


class Target:
    __slots__ = ("base", "headers", "host", "key", "profile", "slug")

    def __init__(self, *, slug: str, base: str, key: str, headers: dict[str, str], profile: Profile) -> None:
        self.slug = slug
        self.base = base.rstrip("/")
        self.key = key
        self.headers = headers
        self.profile = profile
        self.host = urlsplit(self.base).hostname or ""

    def status_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return status_error(status, body, headers, provider=self.slug, secrets=(self.key,), host=self.host)

    def payload_error(self, payload: dict[str, Any]) -> UpstreamError:
        return payload_error(payload, provider=self.slug, secrets=(self.key,), host=self.host)

    def protocol_error(self, message: str) -> UpstreamError:
        return UpstreamError(message, status=502, provider=self.slug)


def base_url_env(slug: str) -> str:
    """`<SLUG>_BASE_URL`: slug upper-cased, '-' as '_'."""
    return slug.upper().replace("-", "_") + "_BASE_URL"
