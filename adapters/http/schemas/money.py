"""Money on the wire: an exact JSON number in fixed-point notation (never float, never 0E-10)."""

from __future__ import annotations

from decimal import Decimal

import msgspec


def money(amount: Decimal) -> msgspec.Raw:
    return msgspec.Raw(format(amount, "f").encode())
