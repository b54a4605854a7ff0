"""What the auth guard needs on every request (not an area with routes of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin


@dataclass(frozen=True, slots=True)
class AuthServices:
    authenticate: Authenticate
    authorize_admin: AuthorizeAdmin
    admin_api_key: str | None = None  # the operator key of `env_key` routes (ADMIN_API_KEY)
