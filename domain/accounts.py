"""Users: who pays, with which role, from which two balances."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from domain.money import total


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    email: str
    username: str
    role: Role = Role.USER
    subscription_allowance: Decimal = Decimal(0)
    purchased_credits: Decimal = Decimal(0)
    is_active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def balance(self) -> Decimal:
        """Spendable USD: the allowance is spent first, then purchased credits."""
        return total((self.subscription_allowance, self.purchased_credits))

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class NewUser(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    username: str
    role: Role = Role.USER
