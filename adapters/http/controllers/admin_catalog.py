"""The catalog cache for operators (#1603 status, #1605 debug view, #1625 refresh)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post

from adapters.http.bundles.models import ModelsBundle


class AdminCatalogController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @get("/cache-status", operation_id="admin_cache_status")
    async def cache_status(self, models_services: ModelsBundle) -> dict[str, Any]:
        return {"status": "success", "cache_info": models_services.catalog_cache.status(),
                "timestamp": datetime.now(UTC)}

    @post("/refresh-providers", operation_id="admin_refresh_providers", status_code=200)
    async def refresh_providers(self, request: Request[Any, Any, Any], models_services: ModelsBundle) -> dict[str, Any]:
        total = await models_services.catalog_cache.refresh(admin_id=request.state.principal.user.id)
        return {"status": "success", "message": "Provider cache refreshed successfully", "total_providers": total,
                "timestamp": datetime.now(UTC)}

    @get("/debug-models", operation_id="admin_debug_models")
    async def debug_models(self, models_services: ModelsBundle) -> dict[str, Any]:
        return {**models_services.catalog_cache.debug(), "timestamp": datetime.now(UTC)}
