"""LoadCatalog, the cached catalog the request path reads, and the model queries, over memory twins."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import pytest

from adapters.cache.catalog import CachedCatalog
from adapters.catalog_file import load_catalog_file
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.catalog import MemoryCatalogRepository
from adapters.memory.clock import FixedClock
from domain.catalog import Catalog, Model, Offer, Provider, ProviderKind
from domain.errors import InvalidInput, NotFound, ServiceUnavailable
from domain.invalidation import CATALOG_TOPIC
from domain.services.load_catalog import LoadCatalog
from domain.services.model_queries import GetModel, ListModels
from gatewayz.cli import DEFAULT_CATALOG

ALPHA = Provider(slug="alpha", name="Alpha", kind=ProviderKind.OPENAI, base_url="https://a.example/v1",
                 api_key_env="ALPHA_API_KEY")


def model(mid: str, *, provider: str = "alpha", aliases: tuple[str, ...] = ()) -> Model:
    return Model(id=mid, name=mid, context_length=1000, max_output_tokens=100, aliases=aliases,
                 offers=(Offer(provider=provider, native_id=mid, input_per_mtok=Decimal(1),
                               output_per_mtok=Decimal(2)),))


class FlakyRepository(MemoryCatalogRepository):
    """The memory twin with a switch that makes the database unreachable."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def load(self) -> Catalog:
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")
        return await super().load()


@dataclass
class World:
    repository: FlakyRepository
    bus: MemoryCacheBus
    source: CachedCatalog
    load: LoadCatalog
    list_models: ListModels
    get_model: GetModel


def world() -> World:
    repository, bus = FlakyRepository(), MemoryCacheBus()
    source = CachedCatalog(repository, bus, retry_s=0.01)
    return World(repository, bus, source, LoadCatalog(repository, bus, FixedClock()), ListModels(source),
                 GetModel(source))


async def test_loading_stores_the_catalog_and_every_process_hears_about_it() -> None:
    w = world()
    counts = await w.load([ALPHA], [model("acme/a", aliases=("a",))])
    assert counts["models"] == 1 and counts["aliases"] == 1
    assert w.bus.published == [(CATALOG_TOPIC, "*")]
    assert [m.id for m in await w.list_models()] == ["acme/a"]  # refreshed by its own broadcast


async def test_an_inconsistent_catalog_is_refused_before_it_reaches_the_store() -> None:
    w = world()
    await w.load([ALPHA], [model("acme/a")])
    for providers, models in [
        ([ALPHA], [model("acme/b", provider="nowhere")]),
        ([ALPHA], [model("acme/b", aliases=("acme/a",)), model("acme/a")]),
        ([ALPHA], [model("acme/b"), model("acme/b")]),
        ([ALPHA, ALPHA], [model("acme/b")]),
        ([ALPHA], [Model(id="acme/c", name="c", context_length=0, max_output_tokens=0, offers=())]),
    ]:
        with pytest.raises(InvalidInput, match="Invalid catalog"):
            await w.load(providers, models)
    assert list(w.repository.models) == ["acme/a"]
    assert len(w.bus.published) == 1


async def test_the_default_catalog_goes_through_the_service() -> None:
    w = world()
    providers, models = load_catalog_file(DEFAULT_CATALOG)
    counts = await w.load(providers, models)
    assert counts["providers"] == len(providers) and counts["models"] == len(models)
    assert (await w.get_model("gpt-4o-mini")).id == "openai/gpt-4o-mini"


async def test_a_model_is_found_by_id_or_alias_and_an_unknown_one_is_not_found() -> None:
    w = world()
    await w.load([ALPHA], [model("acme/a", aliases=("a-short",))])
    assert (await w.get_model("acme/a")).id == "acme/a"
    assert (await w.get_model("A-SHORT")).id == "acme/a"
    with pytest.raises(NotFound, match="Model not found") as caught:
        await w.get_model("acme/zzz")
    assert caught.value.code == "model_not_found"


async def test_current_is_a_plain_read_and_a_failed_refresh_keeps_the_old_snapshot() -> None:
    w = world()
    await w.load([ALPHA], [model("acme/a")])
    before = w.source.current()
    w.repository.down = True
    await w.repository.replace([ALPHA], [model("acme/b")], now=FixedClock().now())
    assert await w.source.refresh() is before
    await w.bus.publish(CATALOG_TOPIC, "*")
    assert w.source.current() is before and list(before.models) == ["acme/a"]
    w.repository.down = False
    assert list((await w.source.refresh()).models) == ["acme/b"]


async def test_a_first_load_that_fails_is_retried_until_the_database_answers() -> None:
    w = world()
    await w.repository.replace([ALPHA], [model("acme/a")], now=FixedClock().now())
    w.repository.down = True
    await w.source.start()
    assert w.source.current().models == {} and not w.source.loaded
    w.repository.down = False
    for _ in range(200):
        if w.source.loaded:
            break
        await asyncio.sleep(0.01)
    assert list(w.source.current().models) == ["acme/a"]
    await w.source.stop()
