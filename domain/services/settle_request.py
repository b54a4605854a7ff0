"""SettleRequest (pipeline step 7): charge what a request used, priced by the offer that served,
and release the rest of its hold. Idempotent by request_id: the hold store settles an id once,
and the ledger's unique request_id guards the written row.

With a journaled hold store (Redis) the charge and the request row ride in the hold store's settle
call itself, durable before it returns, and a drainer writes them (DrainSettlements); without one
(the embedded default) the ledger row is written behind (SettlementJournal), in batches."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.catalog import Model, Offer
from domain.inference import Caller, Usage
from domain.money import ZERO
from domain.pricing import request_cost
from domain.requests import RequestRecord
from domain.settlements import PendingCharge, SettledRequest
from ports.clock import Clock
from ports.holds import HoldStore
from ports.settlements import SettlementJournal
from ports.telemetry import SettlementMetrics


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    cost: Decimal           # what the request cost at the serving offer's price
    charged: Decimal        # what this settlement took from the balance (0 on replay, anonymous, no output)
    replayed: bool = False
    journaled: bool = False  # the request row went with the settlement: the caller does not log it


class SettleRequest:
    def __init__(self, journal: SettlementJournal, holds: HoldStore, clock: Clock, *,
                 markup: Decimal = Decimal(1), metrics: SettlementMetrics | None = None) -> None:
        self._journal = journal
        self._holds = holds
        self._clock = clock
        self._markup = markup
        self._metrics = metrics

    def cost(self, offer: Offer, usage: Usage) -> Decimal:
        return request_cost(offer, usage.prompt_tokens, usage.completion_tokens, self._markup)

    def charge_for(self, offer: Offer | None, usage: Usage | None, *, produced_output: bool) -> Decimal:
        """What settlement will charge (0 when no offer answered or nothing was produced)."""
        return self.cost(offer, usage) if offer is not None and usage is not None and produced_output else ZERO

    async def __call__(self, caller: Caller, request_id: str, model: Model, offer: Offer | None,
                       usage: Usage | None, held: Decimal | None, *, produced_output: bool,
                       record: RequestRecord | None = None, answered_at: float | None = None) -> Settlement:
        """`produced_output` False (every provider failed, empty answer): release without charge.
        `record`: the request row, journaled with the settlement when the hold store journals.
        `answered_at`: monotonic time of the upstream's answer (measures the crash window)."""
        cost = self.charge_for(offer, usage, produced_output=produced_output)
        if caller.user_id is None or (held is None and cost == 0):
            return Settlement(cost=cost, charged=ZERO)
        charge = PendingCharge(
            user_id=caller.user_id, request_id=request_id, amount=cost, created_at=self._clock.now(),
            description=f"API usage: {model.id}",
            created_by=f"api_key:{caller.api_key_id}" if caller.api_key_id else None,
            metadata=_metadata(model, offer, usage, held, cost)) if cost > 0 else None
        entry = (SettledRequest(record=record, charge=charge)
                 if record is not None and self._holds.journaled else None)
        # The hold store settles each request id once, for every process: a replay stops here.
        if not await self._holds.settle(caller.user_id, request_id, cost, entry=entry):
            return Settlement(cost=cost, charged=ZERO, replayed=True)
        if answered_at is not None and self._metrics is not None:
            self._metrics.settle_window(self._clock.monotonic() - answered_at)
        if entry is None and charge is not None:
            await self._journal.submit(charge)
        return Settlement(cost=cost, charged=cost, journaled=entry is not None)


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
