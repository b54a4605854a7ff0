"""The real container, its outbound ports swapped for memory twins: each area builds its use cases
from the root's ports, so one override reaches every area, and an area can be overridden alone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from adapters.memory.accounts import MemoryKeyDirectory
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.clock import FixedClock
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.ids import SequentialIdGenerator
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWorkFactory
from gatewayz.app import AREAS
from gatewayz.container import AREAS as CONTAINER_AREAS
from gatewayz.container import Container, build_container, find, resolve
from gatewayz.settings import Settings
from tests.conftest import settings_env


def memory_container(tmp_path: Path) -> tuple[Container, MemoryStore]:
    container = build_container(Settings.from_env(settings_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db")))
    store = MemoryStore()
    container.uow.override(MemoryUnitOfWorkFactory(store))
    container.clock.override(FixedClock())
    container.ids.override(SequentialIdGenerator())
    container.bus.override(MemoryCacheBus())
    container.holds.override(MemoryHoldStore())
    container.key_directory.override(MemoryKeyDirectory(store))
    return container, store


async def test_a_root_port_override_reaches_every_area_that_uses_it(tmp_path: Path) -> None:
    container, store = memory_container(tmp_path)
    created = await container.users.create_user()(email="a@example.com", admin=False, credits=Decimal(3))
    assert created.api_key.startswith("gw_live_")
    users = await resolve(container.users.bundle)  # its admin queries read the engine (a resource)
    assert await users.count_users() == 1
    credits = container.credits.bundle()
    page = await credits.list_own_transactions(created.user.id, limit=10, offset=0)
    assert [t.amount for t in page.transactions] == [Decimal(3)]  # the same memory store, seen by credits
    assert store.users[created.user.id].email == "a@example.com"


async def test_one_areas_port_can_be_overridden_without_touching_the_others(tmp_path: Path) -> None:
    container, _ = memory_container(tmp_path)
    other = MemoryStore()
    container.users.uow.override(MemoryUnitOfWorkFactory(other))
    await container.users.create_user()(email="b@example.com", admin=False, credits=Decimal(0))
    assert len(other.users) == 1
    assert await container.users.count_users()() == 1
    assert await container.coupons.list_coupons()(scope=None, coupon_type=None, is_active=None,
                                                   limit=10, offset=0) is not None


def test_every_http_area_has_a_bundle_in_the_container_and_names_are_unique(tmp_path: Path) -> None:
    container, _ = memory_container(tmp_path)
    names = [area.name for area in AREAS]
    assert len(names) == len(set(names))
    for area in AREAS:
        assert area.container_name in CONTAINER_AREAS
        assert "bundle" in getattr(container, area.container_name).providers


def test_find_reaches_root_ports_and_area_use_cases(tmp_path: Path) -> None:
    container, _ = memory_container(tmp_path)
    assert find(container, "uow") is container.uow
    assert find(container, "verify_ledger") is container.credits.verify_ledger
