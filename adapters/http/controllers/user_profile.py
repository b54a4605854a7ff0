"""The caller's profile and account deletion (account scope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.params import FromQuery, JSONBody

from adapters.http.bundles.accounts import AccountsBundle
from adapters.http.controllers.own_keys import _user_id
from adapters.http.schemas.accounts import AccountDeletedOut, ProfileIn, ProfileOut
from domain.accounts import ProfileChanges
from domain.errors import AccountRefused


class UserProfileController(Controller):
    path = "/user"
    tags = ["account"]
    opt = {"auth": "user", "scope": "account"}

    @get("/profile", operation_id="user_profile_show")
    async def show(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle) -> ProfileOut:
        return ProfileOut.of(await accounts_services.show_profile(_user_id(request)))

    @put("/profile", operation_id="user_profile_update")
    async def update(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                     data: JSONBody[ProfileIn]) -> ProfileOut:
        user = await accounts_services.update_profile(_user_id(request), ProfileChanges(
            username=data.username, display_name=data.display_name, email=data.email, preferences=data.preferences))
        return ProfileOut.of(user)

    @delete("/account", operation_id="user_account_delete", status_code=200)
    async def delete_account(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                             confirm: FromQuery[bool] = False) -> AccountDeletedOut:
        if not confirm:
            raise AccountRefused("Account deletion requires confirm=true")
        user_id = _user_id(request)
        await accounts_services.delete_account(user_id)
        return AccountDeletedOut(status="success", message="Account deleted", user_id=user_id,
                                 timestamp=datetime.now(UTC))
