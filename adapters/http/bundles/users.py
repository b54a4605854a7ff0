"""The admin user directory."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.admin_directory import AdminDirectory
from domain.services.delete_domain_users import DeleteDomainUsers
from domain.services.user_queries import CountUsers, ListUsers, ShowUser


@dataclass(frozen=True, slots=True)
class UsersServices:
    count_users: CountUsers
    list_users: ListUsers
    show_user: ShowUser
    directory: AdminDirectory
    delete_domain_users: DeleteDomainUsers


# what a handler writes to receive it (`users_services: UsersBundle`)
UsersBundle = NamedDependency[UsersServices]
