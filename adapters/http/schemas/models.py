"""Wire shapes of the model list: OpenAI's list object, plus OpenRouter-style pricing and ours."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from adapters.http.schemas.money import money
from domain.catalog import Model

PER_MILLION = Decimal(1_000_000)


def _per_token(per_mtok: Decimal | None) -> str | None:
    """OpenRouter's convention: USD per token as a plain decimal string ("0.0000025")."""
    return None if per_mtok is None else format((per_mtok / PER_MILLION).normalize(), "f")


def _number(amount: Decimal | None) -> msgspec.Raw | None:
    return None if amount is None else money(amount.normalize())


class PricingOut(msgspec.Struct, kw_only=True):
    prompt: str | None
    completion: str | None


class PricingPerMtokOut(msgspec.Struct, kw_only=True):
    input: msgspec.Raw | None
    output: msgspec.Raw | None


class ModelOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    name: str
    context_length: int
    max_output_tokens: int
    pricing: PricingOut
    pricing_per_mtok: PricingPerMtokOut
    providers: list[str]
    aliases: list[str]

    @classmethod
    def of(cls, m: Model) -> ModelOut:
        """Prices are the primary (first) offer's: what a request without a provider pin is quoted."""
        primary = m.offers[0] if m.offers else None
        price_in = primary.input_per_mtok if primary else None
        price_out = primary.output_per_mtok if primary else None
        owner = m.id.split("/", 1)[0] if "/" in m.id else (primary.provider if primary else "gatewayz")
        return cls(
            id=m.id, created=int(m.created_at.timestamp()) if m.created_at else 0, owned_by=owner, name=m.name,
            context_length=m.context_length, max_output_tokens=m.max_output_tokens,
            pricing=PricingOut(prompt=_per_token(price_in), completion=_per_token(price_out)),
            pricing_per_mtok=PricingPerMtokOut(input=_number(price_in), output=_number(price_out)),
            providers=[o.provider for o in m.offers], aliases=list(m.aliases),
        )


class ModelListOut(msgspec.Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[ModelOut]
