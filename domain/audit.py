"""Security-relevant events kept in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

UNAUTHORIZED_ADMIN_ACCESS = "UNAUTHORIZED_ADMIN_ACCESS"
API_KEY_CREATED = "API_KEY_CREATED"
API_KEY_REVOKED = "API_KEY_REVOKED"
USER_CREATED = "USER_CREATED"
AUTH_LOGIN = "auth.login"
AUTH_REGISTER = "auth.register"
API_KEY_ROTATED = "API_KEY_ROTATED"
PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
PASSWORD_CHANGED = "auth.password_changed"
PROFILE_UPDATED = "user.profile_updated"
ACCOUNT_DELETED = "user.account_deleted"


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str
    created_at: datetime
    user_id: int | None = None
    api_key_id: int | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    request_id: str | None = None  # events about one request (hold_expired): one event per type and request
