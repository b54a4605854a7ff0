"""The account services wired to their memory twins: what the unit tests of auth and users drive."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.cache.key_directory import CachedKeyDirectory
from adapters.memory.accounts import MemoryKeyDirectory
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.clock import FixedClock
from adapters.memory.ids import SequentialIdGenerator
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWorkFactory
from domain.api_keys import Principal
from domain.errors import ServiceUnavailable
from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.create_user import CreateUser
from domain.services.issue_api_key import IssueApiKey
from domain.services.revoke_api_key import RevokeApiKey
from domain.services.user_queries import CountUsers, ListUsers, ShowUser
from ports.ids import IdGenerator

SECRET = b"unit-test-secret"


class SwitchableDirectory:
    """The memory directory behind a switch that simulates a lost database, counting lookups."""

    def __init__(self, inner: MemoryKeyDirectory) -> None:
        self.inner = inner
        self.down = False
        self.lookups = 0

    async def find(self, key_hash: str) -> Principal | None:
        self.lookups += 1
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")
        return await self.inner.find(key_hash)


@dataclass
class World:
    store: MemoryStore
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    ids: IdGenerator
    bus: MemoryCacheBus
    database: SwitchableDirectory
    directory: CachedKeyDirectory
    authenticate: Authenticate
    authorize_admin: AuthorizeAdmin
    issue_api_key: IssueApiKey
    create_user: CreateUser
    revoke_api_key: RevokeApiKey
    count_users: CountUsers
    list_users: ListUsers
    show_user: ShowUser


def build_world(*, secret: bytes = SECRET, ids: IdGenerator | None = None, ttl_s: float = 30.0,
                stale_for_s: float = 600.0, max_entries: int = 10_000) -> World:
    store = MemoryStore()
    uow = MemoryUnitOfWorkFactory(store)
    clock = FixedClock()
    ids = ids or SequentialIdGenerator()
    bus = MemoryCacheBus()
    database = SwitchableDirectory(MemoryKeyDirectory(store))
    directory = CachedKeyDirectory(database, bus, ttl_s=ttl_s, stale_for_s=stale_for_s, max_entries=max_entries)
    issue = IssueApiKey(uow, clock, ids, secret)
    return World(
        store=store, uow=uow, clock=clock, ids=ids, bus=bus, database=database, directory=directory,
        authenticate=Authenticate(directory, clock, secret), authorize_admin=AuthorizeAdmin(uow, clock),
        issue_api_key=issue, create_user=CreateUser(uow, clock, issue), revoke_api_key=RevokeApiKey(uow, clock, bus),
        count_users=CountUsers(uow), list_users=ListUsers(uow), show_user=ShowUser(uow),
    )
