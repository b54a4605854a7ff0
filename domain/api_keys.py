"""API keys: `gw_live_` + 43 url-safe characters, stored only as an HMAC-SHA256 digest.

A key carries what the auth step checks without any further read: its scopes, IP allowlist and
referrer patterns, and, during a rotation's grace, the digest of the secret it replaced."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from datetime import datetime
from enum import StrEnum

import msgspec

from domain.accounts import User

KEY_PREFIX = "gw_live_"
KEY_BODY_LENGTH = 43
_KEY_SHAPE = re.compile(r"^gw_(live|test|dev)_[A-Za-z0-9_-]{43}$")
ENVIRONMENT_PREFIXES = {"live": "gw_live_", "test": "gw_test_", "development": "gw_dev_"}


class KeyKind(StrEnum):
    STANDARD = "standard"  # an app credential, made by its owner
    LOGIN = "login"        # a browser session's key, issued by a login


class KeyScope(StrEnum):
    INFERENCE = "inference"
    ACCOUNT = "account"


ALL_SCOPES: tuple[str, ...] = (KeyScope.INFERENCE.value, KeyScope.ACCOUNT.value)
MAX_RESTRICTIONS = 50
_HOST_PATTERN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    key_hash: str
    prefix: str
    last4: str
    name: str = "default"
    environment: str = "live"
    is_active: bool = True
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    kind: str = KeyKind.STANDARD.value
    is_primary: bool = False
    scopes: tuple[str, ...] = ALL_SCOPES
    ip_allowlist: tuple[str, ...] = ()
    domain_referrers: tuple[str, ...] = ()
    previous_key_hash: str | None = None
    previous_valid_until: datetime | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.is_active and (self.expires_at is None or self.expires_at > now)

    @property
    def display(self) -> str:
        return f"{self.prefix}…{self.last4}"


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    key_hash: str
    prefix: str
    last4: str
    name: str = "default"
    environment: str = "live"
    expires_at: datetime | None = None
    kind: str = KeyKind.STANDARD.value
    is_primary: bool = False
    scopes: tuple[str, ...] = ALL_SCOPES
    ip_allowlist: tuple[str, ...] = ()
    domain_referrers: tuple[str, ...] = ()


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of one request: the key and the user who owns it."""

    key: ApiKey
    user: User


def key_prefix(environment: str) -> str:
    return ENVIRONMENT_PREFIXES.get(environment, KEY_PREFIX)


def compose_key(body: str, environment: str = "live") -> str:
    if len(body) != KEY_BODY_LENGTH:
        raise ValueError("key body must be 43 url-safe characters")
    return key_prefix(environment) + body


def looks_like_key(candidate: str) -> bool:
    """Cheap shape check so garbage never costs a hash or a lookup."""
    return bool(_KEY_SHAPE.fullmatch(candidate))  # fullmatch: `$` would accept a trailing newline


def hash_key(secret: bytes, plaintext: str) -> str:
    return hmac.new(secret, plaintext.encode(), hashlib.sha256).hexdigest()


def display_parts(plaintext: str) -> tuple[str, str]:
    """What may be shown later: the first 12 characters and the last 4."""
    return plaintext[:12], plaintext[-4:]


def normalize_allowlist(entries: list[str]) -> tuple[str, ...]:
    """IPs or CIDRs, canonicalised; raises ValueError naming the first bad entry."""
    if len(entries) > MAX_RESTRICTIONS:
        raise ValueError(f"at most {MAX_RESTRICTIONS} entries")
    out = []
    for entry in entries:
        try:
            out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as exc:
            raise ValueError(f"not an IP address or CIDR: {entry!r}") from exc
    return tuple(dict.fromkeys(out))


def normalize_referrers(entries: list[str]) -> tuple[str, ...]:
    """Host names, optionally `*.suffix`; lower-cased."""
    if len(entries) > MAX_RESTRICTIONS:
        raise ValueError(f"at most {MAX_RESTRICTIONS} entries")
    out = []
    for entry in entries:
        host = entry.strip().lower()
        if len(host) > 253 or not _HOST_PATTERN.fullmatch(host):
            raise ValueError(f"not a host pattern: {entry!r}")
        out.append(host)
    return tuple(dict.fromkeys(out))


def referrer_allowed(patterns: tuple[str, ...], host: str | None) -> bool:
    if host is None:
        return False
    host = host.lower()
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False
