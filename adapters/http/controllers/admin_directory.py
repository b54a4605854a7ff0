"""Admin user aggregates and key lookups (#1601, #1608, #1610, #1613, #1614); the list (#1611) and
details (#1612) live in admin_users.py. Static segments are declared before `{user_id:int}` takes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from adapters.http.bundles.users import UsersBundle
from adapters.http.params import Offset, RowId
from adapters.http.schemas.admin import api_key_out, moneyish

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
