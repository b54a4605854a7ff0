"""API keys: `gw_live_` + 43 url-safe characters, stored only as an HMAC-SHA256 digest."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

import msgspec

from domain.accounts import User

KEY_PREFIX = "gw_live_"
KEY_BODY_LENGTH = 43
_KEY_SHAPE = re.compile(r"^gw_(live|test)_[A-Za-z0-9_-]{43}$")


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

    def usable_at(self, now: datetime) -> bool:
        return self.is_active and (self.expires_at is None or self.expires_at > now)


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    key_hash: str
    prefix: str
    last4: str
    name: str = "default"
    environment: str = "live"
    expires_at: datetime | None = None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of one request: the key and the user who owns it."""

    key: ApiKey
    user: User


def compose_key(body: str) -> str:
    if len(body) != KEY_BODY_LENGTH:
        raise ValueError("key body must be 43 url-safe characters")
    return KEY_PREFIX + body


def looks_like_key(candidate: str) -> bool:
    """Cheap shape check so garbage never costs a hash or a lookup."""
    return bool(_KEY_SHAPE.fullmatch(candidate))  # fullmatch: `$` would accept a trailing newline


def hash_key(secret: bytes, plaintext: str) -> str:
    return hmac.new(secret, plaintext.encode(), hashlib.sha256).hexdigest()


def display_parts(plaintext: str) -> tuple[str, str]:
    """What may be shown later: the first 12 characters and the last 4."""
    return plaintext[:12], plaintext[-4:]
