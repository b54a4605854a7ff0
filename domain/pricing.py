"""What a request may cost (the hold) and what it did cost (the charge), in exact Decimal USD."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from domain.catalog import Model, Offer
from domain.money import MILLION, PLACES, ZERO

DEFAULT_MAX_OUTPUT_CAP = 4096


def output_allowance(requested_max_tokens: int | None, model: Model) -> int:
    """Tokens the hold covers for the answer: what the client asked for, else the model's maximum
    output capped at 4096 (an uncapped 128k-output model would lock far more than any answer costs)."""
    if requested_max_tokens is not None:
        return requested_max_tokens
    return min(model.max_output_tokens or DEFAULT_MAX_OUTPUT_CAP, DEFAULT_MAX_OUTPUT_CAP)


def hold_estimate(offers: list[Offer], prompt_tokens: int, output_tokens: int, markup: Decimal) -> Decimal:
    """Priced at the dearest offer the request may fail over to, rounded up to the ledger's precision."""
    input_price = max((o.input_per_mtok or ZERO for o in offers), default=ZERO)
    output_price = max((o.output_per_mtok or ZERO for o in offers), default=ZERO)
    raw = (Decimal(prompt_tokens) * input_price + Decimal(output_tokens) * output_price) / MILLION * markup
    return raw.quantize(PLACES, rounding=ROUND_CEILING)


def request_cost(offer: Offer, prompt_tokens: int, completion_tokens: int, markup: Decimal) -> Decimal:
    """Priced by the offer that served; rounded half-even to the ledger's precision."""
    input_price = offer.input_per_mtok or ZERO
    output_price = offer.output_per_mtok or ZERO
    raw = (Decimal(prompt_tokens) * input_price + Decimal(completion_tokens) * output_price) / MILLION * markup
    return raw.quantize(PLACES)


def is_free(offers: list[Offer]) -> bool:
    return all(o.priced and o.input_per_mtok == ZERO and o.output_per_mtok == ZERO for o in offers)
