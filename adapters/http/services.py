"""What the HTTP side needs from the core: resolved once by the lifespan into `app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.check_readiness import CheckReadiness
from domain.services.user_queries import CountUsers, ListUsers, ShowUser


@dataclass(frozen=True, slots=True)
class HttpServices:
    authenticate: Authenticate
    authorize_admin: AuthorizeAdmin
    check_readiness: CheckReadiness
    count_users: CountUsers
    list_users: ListUsers
    show_user: ShowUser
    admin_api_key: str | None = None
