"""A pipeline assembled from memory twins, for unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from adapters.cache.settlements import WriteBehindSettlements
from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.catalog_source import StaticCatalogSource
from adapters.memory.clock import FixedClock
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.ids import SequentialIdGenerator
from adapters.memory.limits import MemoryLimitConfigRepository, MemoryRateLimiter
from adapters.memory.requests import MemoryRequestLogStore
from adapters.memory.store import MemoryStore
from adapters.memory.telemetry import RecordingInferenceMetrics
from adapters.memory.timing import MemoryProviderTimings
from adapters.memory.uow import MemoryUnitOfWorkFactory
from adapters.memory.upstream import ScriptedUpstream
from domain.accounts import User
from domain.breaker import BreakerPolicy
from domain.catalog import Catalog, Model, Offer, Provider, ProviderKind
from domain.inference import Caller, InferenceRequest
from domain.services.admit_request import AdmitRequest
from domain.services.chat_completion import ChatCompletion, Reply, StreamReply
from domain.services.dispatch import Dispatch
from domain.services.hold_credits import HoldCredits
from domain.services.post_settlements import PostSettlements
from domain.services.session_history import SessionHistory
from domain.services.settle_request import SettleRequest


def provider(slug: str, kind: ProviderKind = ProviderKind.OPENAI) -> Provider:
    return Provider(slug=slug, name=slug.title(), kind=kind, base_url=f"https://{slug}.example/v1",
                    api_key_env=f"{slug.upper()}_API_KEY")


def offer(slug: str, native: str, price_in: str = "1", price_out: str = "2") -> Offer:
    return Offer(provider=slug, native_id=native, input_per_mtok=Decimal(price_in), output_per_mtok=Decimal(price_out))


def catalog() -> Catalog:
    return Catalog.of(
        [provider("alpha"), provider("beta"), provider("gamma")],
        [Model(id="acme/chat-1", name="Chat 1", context_length=8000, max_output_tokens=1000, aliases=("chat-1",),
               offers=(offer("alpha", "chat-1-a"), offer("beta", "chat-1-b", "3", "6"),
                       offer("gamma", "chat-1-g", "5", "10"))),
         Model(id="acme/solo", name="Solo", context_length=8000, max_output_tokens=1000,
               offers=(offer("beta", "solo-b"),))],
    )


class Finishing:
    """The pipeline as the HTTP layer drives it: a whole answer is settled once it is "sent"."""

    def __init__(self, inner: ChatCompletion) -> None:
        self.inner = inner

    async def __call__(self, request: InferenceRequest, caller: Caller) -> Reply | StreamReply:
        reply = await self.inner(request, caller)
        if isinstance(reply, Reply):
            await reply.finish()
        return reply


@dataclass
class Kit:
    upstream: ScriptedUpstream
    breakers: MemoryBreakerStore
    log: MemoryRequestLogStore
    metrics: RecordingInferenceMetrics
    clock: FixedClock
    pipeline: Finishing
    store: MemoryStore
    uow: MemoryUnitOfWorkFactory
    holds: MemoryHoldStore
    limiter: MemoryRateLimiter
    settlements: WriteBehindSettlements


def kit(anonymous_models: frozenset[str] = frozenset(), balance: Decimal = Decimal(100),
        history: SessionHistory | None = None) -> Kit:
    clock = FixedClock()
    policy = BreakerPolicy()
    upstream = ScriptedUpstream()
    breakers = MemoryBreakerStore(clock, policy)
    metrics = RecordingInferenceMetrics()
    log = MemoryRequestLogStore()
    timings = MemoryProviderTimings()
    dispatch = Dispatch(upstream, breakers, metrics, clock, policy, timings)
    store = MemoryStore()
    store.users[7] = User(id=7, email="payer@example.com", username="payer", purchased_credits=balance)
    store.sequences["users"] = 7
    uow = MemoryUnitOfWorkFactory(store)
    holds = MemoryHoldStore()
    limiter = MemoryRateLimiter()
    settlements = WriteBehindSettlements(PostSettlements(uow))
    pipeline = ChatCompletion(StaticCatalogSource(catalog()), upstream, dispatch, log, metrics, clock,
                              SequentialIdGenerator(), HoldCredits(uow, holds, settlements, clock),
                              SettleRequest(settlements, holds, clock),
                              AdmitRequest(limiter, MemoryLimitConfigRepository(), clock), anonymous_models,
                              history=history)
    return Kit(upstream, breakers, log, metrics, clock, Finishing(pipeline), store, uow, holds, limiter, settlements)
