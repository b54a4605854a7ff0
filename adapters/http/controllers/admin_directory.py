"""Admin user aggregates, key lookups and domain deletion (#1601, #1608, #1610, #1613, #1614, #1628);
the list (#1611) and details (#1612) live in admin_users.py. Static segments win over `{user_id:int}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get
from litestar.params import FromQuery, PathParameter, QueryParameter

from adapters.http.bundles.users import UsersBundle
from adapters.http.params import Offset, RowId
from adapters.http.schemas.admin import api_key_out, moneyish

Domain = Annotated[str, PathParameter(min_length=1, max_length=253, description="An email domain, e.g. spam.org")]

BalanceLimit = Annotated[int, QueryParameter(ge=1, le=10_000, description="Rows per page, at most 10000")]
Days = Annotated[int, QueryParameter(ge=1, le=365, description="Days of history, 1..365")]
ExactKey = Annotated[str, QueryParameter(min_length=1, max_length=256, description="The whole API key")]
KeyFilter = Annotated[str | None, QueryParameter(min_length=1, max_length=256, required=False,
                                                 description="Whole key, a prefix of its prefix, or its last 4")]
Email = Annotated[str | None, QueryParameter(max_length=254, required=False, description="Email contains")]


class AdminDirectoryController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @get("/balance", operation_id="admin_balance")
    async def balance(self, users_services: UsersBundle, limit: BalanceLimit = 1000,
                      offset: Offset = 0) -> dict[str, Any]:
        total, rows = await users_services.directory.balances(limit=limit, offset=offset)
        return {"status": "success", "total_users": total, "has_more": offset + len(rows) < total,
                "limit": limit, "offset": offset,
                "users": [moneyish({k: v for k, v in row.items() if k != "user_id"}) for row in rows]}

    @get("/users/growth", operation_id="admin_users_growth")
    async def growth(self, users_services: UsersBundle, days: Days = 30) -> dict[str, Any]:
        g = await users_services.directory.growth(days)
        return {"status": "success", "data": g.data, "total": g.total, "growth_rate": float(g.growth_rate),
                "start_date": g.start_date, "end_date": g.end_date, "days": days,
                "timestamp": datetime.now(UTC)}

    @get("/users/stats", operation_id="admin_users_stats")
    async def stats(self, users_services: UsersBundle, email: Email = None, api_key: KeyFilter = None,
                    is_active: FromQuery[bool | None] = None) -> dict[str, Any]:
        d = users_services.directory
        found = await d.stats(d.user_filter(email=email, api_key=api_key, is_active=is_active))
        total = found.pop("total_users")
        return {"status": "success", "total_users": total,
                "filters_applied": {"email": email, "api_key": api_key, "is_active": is_active},
                "statistics": moneyish(found), "timestamp": datetime.now(UTC)}

    @get("/users/by-api-key", operation_id="admin_users_by_api_key")
    async def by_api_key(self, users_services: UsersBundle, api_key: ExactKey) -> dict[str, Any]:
        user = await users_services.directory.by_api_key(api_key)
        return {"status": "success", "user": moneyish(user), "timestamp": datetime.now(UTC)}

    @get("/api-keys/{api_key_id:int}", operation_id="admin_api_key_show")
    async def api_key(self, users_services: UsersBundle, api_key_id: RowId) -> dict[str, Any]:
        row = await users_services.directory.api_key(api_key_id)
        return {"status": "success", "api_key": api_key_out(row), "timestamp": datetime.now(UTC)}

    @delete("/users/by-domain/{domain:str}", operation_id="admin_users_delete_by_domain", status_code=200)
    async def delete_by_domain(self, request: Request[Any, Any, Any], users_services: UsersBundle, domain: Domain,
                               dry_run: FromQuery[bool] = True) -> dict[str, Any]:
        done = await users_services.delete_domain_users(domain, dry_run=dry_run,
                                                        admin_id=request.state.principal.user.id)
        d = done.domain
        listed = [moneyish(u) for u in done.users]
        if not done.users:
            message = f"No users found with email domain: {d}"
        elif done.dry_run:
            message = f"DRY RUN: Would delete {len(done.users)} users from domain: {d}"
        else:
            message = f"Deleted {len(done.deleted)} users from domain: {d}"
        body: dict[str, Any] = {"status": "success", "message": message, "dry_run": done.dry_run,
                                "count": len(done.users) if done.dry_run else len(done.deleted),
                                "users": listed, "timestamp": datetime.now(UTC)}
        if not done.dry_run:
            body["failed"] = done.failed
        return body
