"""SettleRequest (pipeline step 7): charge what a request used, priced by the offer that served,
and release the rest of its hold. Idempotent by request_id: the hold store settles an id once,
and the ledger's unique request_id guards the written row. The ledger row itself is written
behind (SettlementJournal), in batches, off the request path."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.catalog import Model, Offer
from domain.inference import Caller, Usage
from domain.money import ZERO
from domain.pricing import request_cost
from domain.settlements import PendingCharge
from ports.clock import Clock
from ports.holds import HoldStore
from ports.settlements import SettlementJournal


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    cost: Decimal           # what the request cost at the serving offer's price
    charged: Decimal        # what this settlement took from the balance (0 on replay, anonymous, no output)
    replayed: bool = False


class SettleRequest:
    def __init__(self, journal: SettlementJournal, holds: HoldStore, clock: Clock, *,
                 markup: Decimal = Decimal(1)) -> None:
        self._journal = journal
        self._holds = holds
        self._clock = clock
        self._markup = markup

    def cost(self, offer: Offer, usage: Usage) -> Decimal:
        return request_cost(offer, usage.prompt_tokens, usage.completion_tokens, self._markup)

    async def __call__(self, caller: Caller, request_id: str, model: Model, offer: Offer | None,
                       usage: Usage | None, held: Decimal | None, *, produced_output: bool) -> Settlement:
        """`produced_output` False (every provider failed, empty answer): release without charge."""
        cost = self.cost(offer, usage) if offer is not None and usage is not None and produced_output else ZERO
        if caller.user_id is None or (held is None and cost == 0):
            return Settlement(cost=cost, charged=ZERO)
        # The hold store settles each request id once, for every process: a replay stops here.
        if not await self._holds.settle(caller.user_id, request_id, cost):
            return Settlement(cost=cost, charged=ZERO, replayed=True)
        if cost > 0:
            await self._journal.submit(PendingCharge(
                user_id=caller.user_id, request_id=request_id, amount=cost, created_at=self._clock.now(),
                description=f"API usage: {model.id}",
                created_by=f"api_key:{caller.api_key_id}" if caller.api_key_id else None,
                metadata=_metadata(model, offer, usage, held, cost)))
        return Settlement(cost=cost, charged=cost)


def _metadata(model: Model, offer: Offer | None, usage: Usage | None, held: Decimal | None,
              cost: Decimal) -> dict[str, object]:
    data: dict[str, object] = {"model": model.id, "provider": offer.provider if offer else None,
                               "native_model": offer.native_id if offer else None,
                               "prompt_tokens": usage.prompt_tokens if usage else 0,
                               "completion_tokens": usage.completion_tokens if usage else 0,
                               "usage_estimated": usage.estimated if usage else False,
                               "held": format(held, "f") if held is not None else None}
    if held is not None and cost > held:
        data["exceeded_hold"] = True  # only when the upstream ignored max_tokens
    return data
