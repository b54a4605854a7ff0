"""Admin credit operations: grant limits, amounts an admin may move, and what each operation returns."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from domain.errors import GatewayError, InvalidInput
from domain.money import usd

GRANT_WINDOW = timedelta(hours=24)
MAX_AMOUNT = Decimal(10) ** 12  # far above any sane operation, far below NUMERIC(30,10)'s 20 integer digits
MIN_REASON = 10
MAX_TEXT = 1000
MAX_METADATA_BYTES = 8192
MAX_BULK_USERS = 100


class CreditOperationRefused(GatewayError):
    """A well-formed operation the credit rules refuse (grant cap, daily limit, negative balance,
    a refund of another user's transaction): 400 with the reason in `detail`."""

    code = "credit_operation_refused"


class GrantPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """ADMIN_MAX_CREDIT_GRANT per grant and ADMIN_DAILY_GRANT_LIMIT per admin per rolling 24 hours."""

    max_grant: Decimal
    daily_limit: Decimal

    def check_cap(self, amount: Decimal) -> None:
        if amount > self.max_grant:
            raise CreditOperationRefused(
                f"Amount ${plain(amount)} exceeds the maximum single grant of ${plain(self.max_grant)} "
                f"(ADMIN_MAX_CREDIT_GRANT). Split the grant or raise the limit.")

    def check_daily(self, granted: Decimal, requested: Decimal) -> None:
        """`granted`: what this admin granted in the last 24 hours; `requested`: this operation's total."""
        if granted + requested > self.daily_limit:
            remaining = max(self.daily_limit - granted, Decimal(0))
            raise CreditOperationRefused(
                f"Grant of ${plain(requested)} would exceed the daily grant limit of ${plain(self.daily_limit)} "
                f"(ADMIN_DAILY_GRANT_LIMIT). Granted in the last 24 hours: ${plain(granted)}; "
                f"remaining: ${plain(remaining)}.")


def plain(amount: Decimal) -> str:
    """An amount as people write it: 15, 0.5 (never 15.0000000000 or 1E+1)."""
    return format(amount.normalize(), "f")


def admin_actor(admin_id: int) -> str:
    """`created_by` of every row an admin writes; the daily grant limit sums rows by it."""
    return f"admin:{admin_id}"


def amount_of(value: Decimal, *, field: str = "amount", positive: bool = True) -> Decimal:
    """A requested amount, exact: finite, within bounds, positive (or non-zero when `positive` is False)."""
    try:
        amount = usd(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("must be a finite number", field=field) from exc
    if abs(amount) >= MAX_AMOUNT:
        raise InvalidInput(f"must be less than {MAX_AMOUNT} in magnitude", field=field)
    if positive and amount <= 0:
        raise InvalidInput("must be greater than 0", field=field)
    if not positive and amount == 0:
        raise InvalidInput("must not be zero", field=field)
    return amount


def reason_of(value: str, *, field: str = "reason", minimum: int = MIN_REASON) -> str:
    text = value.strip()
    if len(text) < minimum:
        raise InvalidInput(f"must be at least {minimum} characters", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"must be at most {MAX_TEXT} characters", field=field)
    return text


def text_of(value: str, *, field: str) -> str:
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"must be at most {MAX_TEXT} characters", field=field)
    return value


def metadata_of(value: dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if len(msgspec.json.encode(value)) > MAX_METADATA_BYTES:
        raise InvalidInput(f"must encode to at most {MAX_METADATA_BYTES} bytes", field="metadata")
    return dict(value)


class CreditChange(msgspec.Struct, frozen=True, kw_only=True):
    """One balance change an admin made: what every single-user credit endpoint answers with."""

    user_id: int
    username: str
    amount: Decimal
    previous_balance: Decimal
    new_balance: Decimal
    transaction_id: int | None
    reason: str
    timestamp: datetime


class BulkOutcome(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    succeeded: bool
    previous_balance: Decimal | None = None
    new_balance: Decimal | None = None
    transaction_id: int | None = None
    error: str | None = None


class BulkGrant(msgspec.Struct, frozen=True, kw_only=True):
    amount: Decimal
    outcomes: list[BulkOutcome]
    timestamp: datetime

    @property
    def successful(self) -> int:
        return sum(1 for o in self.outcomes if o.succeeded)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.successful

    @property
    def status(self) -> str:
        if self.failed == 0:
            return "success"
        return "partial" if self.successful else "failed"

    @property
    def total_added(self) -> Decimal:
        return self.amount * self.successful
