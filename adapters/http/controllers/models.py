"""The model list (`GET /v1/models`, alias `GET /models`) and one model, from the catalog snapshot."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from adapters.http.bundles.models import ModelsBundle
from adapters.http.schemas.models import ModelListOut, ModelOut


class ModelsController(Controller):
    """Public like OpenAI-compatible gateways' model lists: clients discover models before holding a key."""

    path = "/"
    tags = ["models"]
    opt = {"auth": "public", "error_style": "openai"}

    @get("/v1/models", operation_id="models_list")
    async def list_models(self, models_services: ModelsBundle) -> ModelListOut:
        return ModelListOut(data=[ModelOut.of(m) for m in await models_services.list_models()])

    @get("/models", operation_id="models_list_unversioned")
    async def list_models_unversioned(self, models_services: ModelsBundle) -> ModelListOut:
        """The same list without the `/v1` prefix, for clients configured with a bare base URL."""
        return await self.list_models.fn(self, models_services)

    @get("/v1/models/{model_id:path}", operation_id="models_get")
    async def get_model(self, models_services: ModelsBundle, model_id: FromPath[str]) -> ModelOut:
        return ModelOut.of(await models_services.get_model(model_id.lstrip("/")))
