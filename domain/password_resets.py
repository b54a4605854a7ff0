"""Password reset tokens: 32 random bytes (URL-safe) for the user, only their SHA-256 for us."""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

RESET_REQUESTED_MESSAGE = "If an account with that email exists, a password reset link has been sent."


class ResetToken(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    token_hash: str
    expires_at: datetime
    used_at: datetime | None
    created_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
