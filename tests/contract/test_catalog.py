"""CatalogRepository contract over memory, SQLite and PostgreSQL: the twin must not drift."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import delete

from adapters.memory.catalog import MemoryCatalogRepository
from adapters.postgres.catalog import PostgresCatalogRepository
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import model_aliases, model_offers, models, providers
from domain.catalog import Model, Offer, Provider, ProviderKind
from domain.errors import InvalidInput
from ports.catalog import CatalogRepository

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def repo(request: pytest.FixtureRequest) -> AsyncIterator[CatalogRepository]:
    if request.param == "memory":
        yield MemoryCatalogRepository()
        return
    engine = create_engine(request.getfixturevalue(f"{request.param}_url"))
    async with engine.begin() as conn:  # the PostgreSQL database lives for the session: start empty
        for table in (model_aliases, model_offers, models, providers):
            await conn.execute(delete(table))
    yield PostgresCatalogRepository(engine)
    await engine.dispose()


def provider(slug: str, kind: ProviderKind = ProviderKind.OPENAI) -> Provider:
    return Provider(slug=slug, name=slug.title(), kind=kind, base_url=f"https://{slug}.example/v1",
                    api_key_env=f"{slug.upper().replace('-', '_')}_API_KEY")


def offer(slug: str, price_in: str | None = "1.5", price_out: str | None = "2") -> Offer:
    return Offer(provider=slug, native_id=f"{slug}-native",
                 input_per_mtok=None if price_in is None else Decimal(price_in),
                 output_per_mtok=None if price_out is None else Decimal(price_out))


def model(mid: str, *offers: Offer, aliases: tuple[str, ...] = ()) -> Model:
    return Model(id=mid, name=mid.upper(), context_length=8192, max_output_tokens=1024, aliases=aliases,
                 offers=offers)


PROVIDERS = [provider("alpha"), provider("beta-2"), provider("claude", ProviderKind.ANTHROPIC)]
MODELS = [
    model("acme/chat", offer("beta-2", "0.0000001", "123456.789"), offer("alpha"), aliases=("chat", "c")),
    model("acme/embed", offer("alpha", "0.02", "0")),
    model("anthropic/claude", offer("claude", "3", "15"), aliases=("claude",)),
]


def strip_created(m: Model) -> Model:
    return msgspec.structs.replace(m, created_at=None)


async def test_an_empty_store_loads_an_empty_catalog(repo: CatalogRepository) -> None:
    catalog = await repo.load()
    assert catalog.models == {} and catalog.providers == {} and catalog.aliases == {}


async def test_replace_then_load_round_trips_offers_in_order_and_exact_prices(repo: CatalogRepository) -> None:
    counts = await repo.replace(PROVIDERS, MODELS, now=NOW)
    assert counts == {"providers": 3, "models": 3, "offers": 4, "aliases": 3, "deactivated": 0,
                      "providers_deactivated": 0}
    catalog = await repo.load()
    assert list(catalog.providers.values()) == sorted(PROVIDERS, key=lambda p: p.slug)
    assert [strip_created(m) for m in catalog.models.values()] == MODELS
    assert all(m.created_at == NOW for m in catalog.models.values())
    chat = catalog.models["acme/chat"]
    assert [o.provider for o in chat.offers] == ["beta-2", "alpha"]
    assert chat.offers[0].input_per_mtok == Decimal("0.0000001")
    assert chat.offers[0].output_per_mtok == Decimal("123456.789")
    assert catalog.aliases == {"chat": "acme/chat", "c": "acme/chat", "claude": "anthropic/claude"}
    assert catalog.resolve("CHAT") == chat


async def test_unknown_prices_stay_unknown_never_zero(repo: CatalogRepository) -> None:
    await repo.replace(PROVIDERS, [model("acme/x", offer("alpha", None, None))], now=NOW)
    (x,) = (await repo.load()).models.values()
    assert x.offers[0].input_per_mtok is None and not x.offers[0].priced


async def test_replacing_twice_is_idempotent_and_keeps_the_first_catalogued_time(repo: CatalogRepository) -> None:
    first = await repo.replace(PROVIDERS, MODELS, now=NOW)
    before = await repo.load()
    second = await repo.replace(PROVIDERS, MODELS, now=LATER)
    after = await repo.load()
    assert first == second
    assert after == before
    assert all(m.created_at == NOW for m in after.models.values())


async def test_a_model_absent_from_the_new_catalog_is_deactivated_and_can_come_back(repo: CatalogRepository) -> None:
    await repo.replace(PROVIDERS, MODELS, now=NOW)
    counts = await repo.replace(PROVIDERS, MODELS[:2], now=LATER)
    assert counts["deactivated"] == 1
    catalog = await repo.load()
    assert set(catalog.models) == {"acme/chat", "acme/embed"}
    assert catalog.resolve("claude") is None
    assert (await repo.replace(PROVIDERS, MODELS[:2], now=LATER))["deactivated"] == 0
    await repo.replace(PROVIDERS, MODELS, now=LATER)
    back = (await repo.load()).models["anthropic/claude"]
    assert back.aliases == ("claude",) and back.created_at == NOW


async def test_offers_and_aliases_are_replaced_and_an_alias_may_move_to_another_model(
        repo: CatalogRepository) -> None:
    await repo.replace(PROVIDERS, MODELS, now=NOW)
    moved = [
        model("acme/chat", offer("alpha", "9", "9"), aliases=("c",)),
        model("acme/chat-2", offer("beta-2"), aliases=("chat",)),
    ]
    counts = await repo.replace(PROVIDERS, moved, now=LATER)
    assert counts["offers"] == 2 and counts["aliases"] == 2 and counts["deactivated"] == 2
    catalog = await repo.load()
    assert [o.provider for o in catalog.models["acme/chat"].offers] == ["alpha"]
    assert catalog.models["acme/chat"].offers[0].input_per_mtok == Decimal(9)
    assert catalog.aliases == {"c": "acme/chat", "chat": "acme/chat-2"}


async def test_a_provider_absent_from_the_new_catalog_is_kept_but_inactive(repo: CatalogRepository) -> None:
    await repo.replace(PROVIDERS, MODELS, now=NOW)
    counts = await repo.replace(PROVIDERS[:2], MODELS[:2], now=LATER)
    assert counts["providers_deactivated"] == 1
    catalog = await repo.load()
    assert catalog.providers["claude"].is_active is False
    assert catalog.providers["alpha"].is_active is True


async def test_a_catalog_breaking_a_constraint_is_rejected_whole(repo: CatalogRepository) -> None:
    await repo.replace(PROVIDERS, MODELS, now=NOW)
    before = await repo.load()
    broken = [model("acme/new", offer("alpha")), model("acme/chat", offer("nowhere"))]
    with pytest.raises(InvalidInput):
        await repo.replace(PROVIDERS, broken, now=LATER)
    duplicate_alias = [model("acme/a", offer("alpha"), aliases=("x",)), model("acme/b", offer("alpha"), aliases=("x",))]
    with pytest.raises(InvalidInput):
        await repo.replace(PROVIDERS, duplicate_alias, now=LATER)
    assert await repo.load() == before
