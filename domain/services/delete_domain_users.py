"""DELETE /admin/users/by-domain/{domain} (#1628): every account of one email domain through the
account-deletion service, one transaction per user (keys revoked and broadcast, person erased,
ledger kept). A dry run, the default, only lists them."""

from __future__ import annotations

import msgspec

from domain.admin import email_domain
from domain.errors import GatewayError
from domain.services.profile import DeleteAccount
from ports.admin_queries import AdminQueries, Row


class DomainDeletion(msgspec.Struct, frozen=True, kw_only=True):
    domain: str
    dry_run: bool
    users: list[Row]
    deleted: list[int]
    failed: list[dict[str, object]]


class DeleteDomainUsers:
    def __init__(self, queries: AdminQueries, delete_account: DeleteAccount, protected: tuple[str, ...]) -> None:
        self._q = queries
        self._delete = delete_account
        self._protected = protected

    async def __call__(self, raw_domain: str, *, dry_run: bool, admin_id: int) -> DomainDeletion:
        domain = email_domain(raw_domain, self._protected)
        found = await self._q.users_in_domain(domain)
        deleted: list[int] = []
        failed: list[dict[str, object]] = []
        if not dry_run:
            for user in found:
                try:
                    await self._delete(user["id"], by=f"admin:{admin_id}:domain:{domain}")
                except GatewayError as exc:
                    failed.append({"id": user["id"], "error": exc.message})
                else:
                    deleted.append(user["id"])
        return DomainDeletion(domain=domain, dry_run=dry_run, users=found, deleted=deleted, failed=failed)
