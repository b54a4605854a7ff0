"""Money is Decimal USD with ten decimal places: fractions of a cent per token must survive."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

PLACES = Decimal("0.0000000001")
ZERO = Decimal("0")
MILLION = Decimal(1_000_000)
# Room for NUMERIC(30,10) and beyond: the default context (28 digits) cannot quantize 20 integer digits.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
LIMIT = Decimal(10) ** 20  # amounts are NUMERIC(30,10) in SQL: below 10^20 in magnitude


def usd(value: Decimal | int | str) -> Decimal:
    """Normalise an amount to the ledger's precision; floats are refused to keep binary error out."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    if amount.copy_abs() < LIMIT:  # copy_abs: abs() would round to the 28-digit default context
        amount = amount.quantize(PLACES, rounding=ROUND_HALF_EVEN, context=_EXACT)
    if amount.copy_abs() >= LIMIT:  # (rounding may have carried it up to the limit)
        raise ValueError(f"amount out of range: {value!r}")
    return amount


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of ledger amounts (the default 28-digit context would round NUMERIC(30,10) values)."""
    result = ZERO
    for amount in amounts:
        result = _EXACT.add(result, amount)
    return result


def token_cost(tokens: int, price_per_mtok: Decimal) -> Decimal:
    """Cost of `tokens` at a catalog price quoted in USD per million tokens (unrounded)."""
    return Decimal(tokens) * price_per_mtok / MILLION
