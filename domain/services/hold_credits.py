"""HoldCredits (pipeline step 4): set aside the most a request may cost before any provider is called."""

from __future__ import annotations

from decimal import Decimal

from domain import not_found
from domain.catalog import Model
from domain.errors import InsufficientCredits
from domain.holds import BalanceUnknown
from domain.inference import Caller, InferenceRequest
from domain.pricing import hold_estimate, is_free, output_allowance
from domain.routing import Route
from ports.clock import Clock
from ports.holds import HoldStore
from ports.settlements import SettlementJournal
from ports.uow import UnitOfWorkFactory


class HoldCredits:
    def __init__(self, uow: UnitOfWorkFactory, holds: HoldStore, journal: SettlementJournal, clock: Clock, *,
                 markup: Decimal = Decimal(1), ttl_s: float = 900.0) -> None:
        self._uow = uow
        self._journal = journal
        self._holds = holds
        self._clock = clock
        self._markup = markup
        self._ttl = ttl_s

    def estimate(self, model: Model, routes: list[Route], request: InferenceRequest) -> Decimal:
        return hold_estimate([o for _, o in routes], request.prompt_tokens_estimate,
                             output_allowance(request.max_tokens, model), self._markup)

    async def __call__(self, caller: Caller, request_id: str, model: Model, routes: list[Route],
                       request: InferenceRequest) -> Decimal | None:
        """The amount held, or None when nothing needs holding (anonymous callers, free models).
        Raises InsufficientCredits (402) when the balance minus open holds does not cover it."""
        if caller.user_id is None or is_free([o for _, o in routes]):
            return None
        amount = self.estimate(model, routes, request)
        now = self._clock.now().timestamp()
        try:
            reservation = await self._holds.reserve(caller.user_id, request_id, amount, now=now, ttl_s=self._ttl)
        except BalanceUnknown:
            await self._holds.prime(caller.user_id, await self._balance(caller.user_id))
            reservation = await self._holds.reserve(caller.user_id, request_id, amount, now=now, ttl_s=self._ttl)
        if not reservation.accepted:
            raise InsufficientCredits("Insufficient credits", required=amount,
                                      available=max(reservation.available, Decimal(0)))
        return amount

    async def _balance(self, user_id: int) -> Decimal:
        # Charges not yet in the ledger: journaled ones are read first, so one written between the two
        # reads is subtracted twice (the balance comes out lower, never higher).
        unposted = await self._holds.unposted(user_id)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise not_found.user(user_id)
        return user.balance - unposted - self._journal.pending_for(user_id)
