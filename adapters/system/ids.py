"""Real identifiers: random, unguessable."""

from __future__ import annotations

import secrets
import uuid


class RandomIdGenerator:
    def request_id(self) -> str:
        return uuid.uuid4().hex

    def key_body(self) -> str:
        # 32 random bytes -> exactly 43 url-safe base64 characters (no padding).
        return secrets.token_urlsafe(32)
