"""Who is calling: key authentication and the admin check every guarded route runs."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.bundles.auth import AuthServices
from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin


class AuthArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    uow = providers.Dependency()
    clock = providers.Dependency()
    key_secret = providers.Dependency()
    key_directory = providers.Dependency()
    key_usage = providers.Dependency()

    authenticate = providers.Singleton(Authenticate, key_directory, clock, key_secret, key_usage)
    authorize_admin = providers.Singleton(AuthorizeAdmin, uow, clock)
    bundle = providers.Singleton(AuthServices, authenticate, authorize_admin,
                                 admin_api_key=settings.provided.admin_api_key)
