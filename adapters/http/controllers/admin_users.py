"""Admin user directory (#1609 count, #1611 list with the key filter of issue 14, #1612 details)."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get
from litestar.params import FromQuery

from adapters.http.bundles.users import UsersBundle
from adapters.http.controllers.admin_directory import Email, KeyFilter
from adapters.http.params import Limit10000, Offset, RowId
from adapters.http.schemas.admin import key_details, moneyish
from adapters.http.schemas.admin_users import (
    Pagination,
    UserDetailsOut,
    UserOut,
    UsersCountOut,
    UsersPageOut,
    transaction_out,
    user_details,
)


class AdminUsersController(Controller):
    path = "/admin/users"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @get("/count", operation_id="admin_users_count")
    async def count(self, users_services: UsersBundle) -> UsersCountOut:
        return UsersCountOut(count=await users_services.count_users(), timestamp=datetime.now(UTC))

    @get("/", operation_id="admin_users_list")
    async def list_users(
        self, users_services: UsersBundle,
        email: Email = None,
        api_key: KeyFilter = None,
        is_active: FromQuery[bool | None] = None,
        limit: Limit10000 = 100,
        offset: Offset = 0,
    ) -> UsersPageOut:
        d = users_services.directory
        total, found = await d.users(d.user_filter(email=email, api_key=api_key, is_active=is_active),
                                     limit=limit, offset=offset)
        return UsersPageOut(
            status="success", total_users=total, has_more=offset + len(found) < total,
            pagination=Pagination(limit=limit, offset=offset, current_page=offset // limit + 1,
                                  total_pages=-(-total // limit)),
            filters_applied={"email": email, "api_key": api_key, "is_active": is_active},
            users=[UserOut.of(u) for u in found], timestamp=datetime.now(UTC),
        )

    @get("/{user_id:int}", operation_id="admin_users_show")
    async def show(self, users_services: UsersBundle, user_id: RowId) -> UserDetailsOut:
        details = await users_services.show_user(user_id)
        return UserDetailsOut(
            status="success", user=user_details(details.user),
            api_keys=[key_details(k) for k in details.api_keys],
            recent_usage=moneyish(await users_services.directory.recent_requests(user_id)),
            recent_transactions=[transaction_out(t) for t in details.recent_transactions],
            recent_activity=[{"event_type": e.event_type, "api_key_id": e.api_key_id, "details": e.details,
                              "created_at": e.created_at} for e in details.recent_activity],
            timestamp=datetime.now(UTC),
        )
