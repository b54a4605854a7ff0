"""What the HTTP side needs from the core: resolved once by the lifespan into `app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.chat_completion import ChatCompletion
from domain.services.check_readiness import CheckReadiness
from domain.services.model_queries import GetModel, ListModels
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker
from domain.services.user_queries import CountUsers, ListUsers, ShowUser


@dataclass(frozen=True, slots=True)
class HttpServices:
    authenticate: Authenticate
    authorize_admin: AuthorizeAdmin
    check_readiness: CheckReadiness
    count_users: CountUsers
    list_users: ListUsers
    show_user: ShowUser
    list_models: ListModels
    get_model: GetModel
    list_breakers: ListBreakers
    show_breaker: ShowBreaker
    reset_breaker: ResetBreaker
    reset_all_breakers: ResetAllBreakers
    chat_completion: ChatCompletion
    admin_api_key: str | None = None
