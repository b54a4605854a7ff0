"""GET /v1/models (and /models) and GET /v1/models/{id} over the real app and a migrated SQLite."""

from __future__ import annotations

from decimal import Decimal

from adapters.catalog_file import load_catalog_file
from gatewayz.cli import DEFAULT_CATALOG
from tests.harness import Running, running_app


async def load_default(r: Running) -> None:
    providers, models = load_catalog_file(DEFAULT_CATALOG)
    await (await r.service("load_catalog"))(providers, models)


async def test_the_model_list_is_public_and_shaped_like_openais(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        empty = await r.client.get("/v1/models")
        assert empty.status_code == 200 and empty.json() == {"object": "list", "data": []}
        await load_default(r)
        resp = await r.client.get("/v1/models")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["object"] == "list" and len(body["data"]) >= 60
        assert (await r.client.get("/models")).json() == body
        by_id = {m["id"]: m for m in body["data"]}
        mini = by_id["openai/gpt-4o-mini"]
        assert mini["object"] == "model" and mini["owned_by"] == "openai" and mini["created"] > 0
        assert mini["context_length"] == 128000 and mini["max_output_tokens"] == 16384
        assert mini["pricing"] == {"prompt": "0.00000015", "completion": "0.0000006"}
        assert mini["pricing_per_mtok"] == {"input": 0.15, "output": 0.6}
        assert mini["providers"][:2] == ["openai", "openrouter"]
        assert "gpt-4o-mini" in mini["aliases"]


async def test_money_in_the_list_is_an_exact_json_number(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        await load_default(r)
        raw = (await r.client.get("/v1/models/openai/gpt-4o")).text
        assert '"pricing_per_mtok":{"input":2.5,"output":10}' in raw
        assert '"prompt":"0.0000025"' in raw


async def test_one_model_by_id_or_alias_else_an_openai_style_404(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        await load_default(r)
        by_id = await r.client.get("/v1/models/openai/gpt-4o-mini")
        assert by_id.status_code == 200 and by_id.json()["id"] == "openai/gpt-4o-mini"
        by_alias = await r.client.get("/v1/models/gpt-4o-mini")
        assert by_alias.status_code == 200 and by_alias.json() == by_id.json()
        missing = await r.client.get("/v1/models/acme/does-not-exist")
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["message"] == "Model not found"
        assert error["type"] == "not_found_error" and error["code"] == "model_not_found"


async def test_embedding_models_list_with_no_output_tokens(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        await load_default(r)
        embed = (await r.client.get("/v1/models/openai/text-embedding-3-small")).json()
        assert embed["max_output_tokens"] == 0
        assert Decimal(str(embed["pricing_per_mtok"]["input"])) == Decimal("0.02")
        assert embed["pricing"]["completion"] == "0"
