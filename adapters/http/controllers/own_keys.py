"""The caller's own keys (account scope): list, create, rotate with grace, revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromQuery, JSONBody

from adapters.http.bundles.accounts import AccountsBundle
from adapters.http.params import RowId
from adapters.http.schemas.accounts import (
    CreatedKeyOut,
    CreateKeyIn,
    KeyOut,
    KeysOut,
    RevokedKeyOut,
    RotatedKeyOut,
    RotateKeyIn,
)
from domain.api_keys import Principal, normalize_allowlist, normalize_referrers
from domain.errors import InvalidInput

SHOWN_ONCE = "Store this key now; it will not be shown again"


def _user_id(request: Request[Any, Any, Any]) -> int:
    principal: Principal = request.state.principal
    return principal.user.id


class OwnKeysController(Controller):
    path = "/user/api-keys"
    tags = ["account"]
    opt = {"auth": "user", "scope": "account"}

    @get("/", operation_id="own_keys_list")
    async def list_keys(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                        include_revoked: FromQuery[bool] = False) -> KeysOut:
        keys = await accounts_services.list_own_keys(_user_id(request), include_revoked=include_revoked)
        return KeysOut(keys=[KeyOut.of(k) for k in keys], total=len(keys))

    @post("/", operation_id="own_keys_create", status_code=200)
    async def create(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                     data: JSONBody[CreateKeyIn]) -> CreatedKeyOut:
        try:
            allowlist = normalize_allowlist(data.ip_allowlist)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="ip_allowlist") from exc
        try:
            referrers = normalize_referrers(data.domain_referrers)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="domain_referrers") from exc
        issued = await accounts_services.create_own_key(
            _user_id(request), name=data.name, environment=data.environment_tag, scopes=tuple(data.scopes),
            expires_in_days=data.expires_in_days, ip_allowlist=allowlist, domain_referrers=referrers)
        return CreatedKeyOut(**KeyOut.fields_of(issued.key), api_key=issued.plaintext, message=SHOWN_ONCE)

    @post("/{key_id:int}/rotate", operation_id="own_keys_rotate", status_code=200)
    async def rotate(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle, key_id: RowId,
                     data: JSONBody[RotateKeyIn | None] = None) -> RotatedKeyOut:
        rotated = await accounts_services.rotate_own_key(_user_id(request), key_id,
                                                         grace_seconds=data.grace_seconds if data else 0)
        return RotatedKeyOut(**KeyOut.fields_of(rotated.key), api_key=rotated.plaintext,
                             previous_key_valid_until=rotated.previous_valid_until)

    @delete("/{key_id:int}", operation_id="own_keys_revoke", status_code=200)
    async def revoke(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                     key_id: RowId) -> RevokedKeyOut:
        await accounts_services.revoke_own_key(_user_id(request), key_id)
        return RevokedKeyOut(success=True, message="API key revoked", id=key_id)
