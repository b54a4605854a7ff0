"""The catalog cache for operators (#1603 status, #1605 debug view, #1625 refresh) and the Hugging Face
metadata behind the ModelHub port (#1604 cache status, #1606 fresh fetch, #1626 clear)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import PathParameter

from adapters.http.bundles.models import ModelsBundle
from domain.services.hub_metadata import author_data

HubId = Annotated[str, PathParameter(min_length=1, max_length=200, description="A Hub model id, e.g. org/name")]


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

    @get("/test-huggingface/{hugging_face_id:path}", operation_id="admin_test_huggingface")
    async def test_huggingface(self, models_services: ModelsBundle, hugging_face_id: HubId) -> dict[str, Any]:
        repo_id = hugging_face_id.lstrip("/")
        raw = await models_services.hub_metadata.fetch(repo_id)
        return {"hugging_face_id": repo_id, "raw_response": raw, "author_data_extracted": author_data(raw),
                "timestamp": datetime.now(UTC)}

    @get("/huggingface-cache-status", operation_id="admin_huggingface_cache_status")
    async def huggingface_cache_status(self, models_services: ModelsBundle) -> dict[str, Any]:
        return {"huggingface_cache": await models_services.hub_metadata.status(), "timestamp": datetime.now(UTC)}

    @post("/refresh-huggingface-cache", operation_id="admin_refresh_huggingface_cache", status_code=200)
    async def refresh_huggingface_cache(self, request: Request[Any, Any, Any],
                                        models_services: ModelsBundle) -> dict[str, Any]:
        await models_services.hub_metadata.clear(admin_id=request.state.principal.user.id)
        return {"message": "Hugging Face cache cleared successfully", "timestamp": datetime.now(UTC)}
