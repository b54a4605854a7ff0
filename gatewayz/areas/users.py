"""Users and their keys: creation and revocation (CLI), the admin directory (HTTP)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.users import UsersServices
from adapters.http.controllers.admin_directory import AdminDirectoryController
from adapters.http.controllers.admin_users import AdminUsersController
from domain.services.admin_directory import AdminDirectory
from domain.services.create_user import CreateUser
from domain.services.delete_domain_users import DeleteDomainUsers
from domain.services.issue_api_key import IssueApiKey
from domain.services.profile import DeleteAccount
from domain.services.revoke_api_key import RevokeApiKey
from domain.services.user_queries import CountUsers, ListUsers, ShowUser


class UsersArea(containers.DeclarativeContainer):
    uow = providers.Dependency()
    clock = providers.Dependency()
    ids = providers.Dependency()
    key_secret = providers.Dependency()
    bus = providers.Dependency()
    admin_queries = providers.Dependency()
    protected_email_domains = providers.Dependency()

    issue_api_key = providers.Singleton(IssueApiKey, uow, clock, ids, key_secret)
    create_user = providers.Singleton(CreateUser, uow, clock, issue_api_key)
    revoke_api_key = providers.Singleton(RevokeApiKey, uow, clock, bus)
    count_users = providers.Singleton(CountUsers, uow)
    list_users = providers.Singleton(ListUsers, uow)
    show_user = providers.Singleton(ShowUser, uow)
    directory = providers.Singleton(AdminDirectory, admin_queries, clock, key_secret)
    delete_domain_users = providers.Singleton(
        DeleteDomainUsers, admin_queries, providers.Singleton(DeleteAccount, uow, clock, bus), protected_email_domains)
    bundle = providers.Singleton(UsersServices, count_users, list_users, show_user, directory, delete_domain_users)


HTTP = Area("users", [AdminDirectoryController, AdminUsersController])
