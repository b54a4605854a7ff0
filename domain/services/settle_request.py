"""SettleRequest (pipeline step 7): charge what a request used, priced by the offer that served,
and release the rest of its hold. Idempotent by request_id (the ledger's unique request_id)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.catalog import Model, Offer
from domain.errors import Conflict
from domain.inference import Caller, Usage
from domain.ledger import TransactionType
from domain.money import ZERO
from domain.pricing import request_cost
from domain.services.post_transaction import post_transaction
from ports.clock import Clock
from ports.holds import HoldStore
from ports.uow import UnitOfWorkFactory


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    cost: Decimal           # what the request cost at the serving offer's price
    charged: Decimal        # what this settlement took from the balance (0 on replay, anonymous, no output)
    replayed: bool = False


class SettleRequest:
    def __init__(self, uow: UnitOfWorkFactory, holds: HoldStore, clock: Clock, *,
                 markup: Decimal = Decimal(1)) -> None:
        self._uow = uow
        self._holds = holds
        self._clock = clock
        self._markup = markup

    def cost(self, offer: Offer, usage: Usage) -> Decimal:
        return request_cost(offer, usage.prompt_tokens, usage.completion_tokens, self._markup)

    async def __call__(self, caller: Caller, request_id: str, model: Model, offer: Offer | None,
                       usage: Usage | None, held: Decimal | None, *, produced_output: bool) -> Settlement:
        """`produced_output` False (every provider failed, empty answer): release without charge."""
        cost = self.cost(offer, usage) if offer is not None and usage is not None and produced_output else ZERO
        if caller.user_id is None:
            return Settlement(cost=cost, charged=ZERO)
        charged, replayed = ZERO, False
        if cost > 0:
            try:
                async with self._uow() as uow:
                    await post_transaction(
                        uow, user_id=caller.user_id, amount=-cost, kind=TransactionType.API_USAGE,
                        now=self._clock.now(), description=f"API usage: {model.id}", request_id=request_id,
                        created_by=f"api_key:{caller.api_key_id}" if caller.api_key_id else None,
                        metadata=_metadata(model, offer, usage, held, cost))
                    await uow.commit()
                charged = cost
            except Conflict:
                replayed = True  # this request was settled before: nothing changes
        if held is not None or charged:
            await self._holds.settle(caller.user_id, request_id, charged)
        return Settlement(cost=cost, charged=charged, replayed=replayed)


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
