"""The admin read surface (issue 14): filters the SQL honours, and the few figures derived from its
aggregates (growth rate, tracking alerts), kept pure so they are unit-tested without a database."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from domain.errors import GatewayError

CENT = Decimal("0.01")


def cents(value: Decimal | float | int | None) -> Decimal:
    """2 dp, half up (the seed's `round(x, 2)` on the figures an operator reads)."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal:
    """part / whole × 100 at 2 dp; 0 without data (the seed divided by zero)."""
    return cents(Decimal(part) * 100 / Decimal(whole)) if whole else Decimal("0.00")


def like_contains(text: str) -> str:
    """A bound `LIKE ... ESCAPE '\\'` pattern matching `text` anywhere, its `%`, `_` and `\\` literally."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def key_display(prefix: str | None, last4: str | None) -> str | None:
    """What an admin sees of a key: its stored prefix and last four characters, never the secret."""
    return None if prefix is None else f"{prefix}…{last4}"


class UserFilter(msgspec.Struct, frozen=True, kw_only=True):
    """#1610/#1611: email contains; a key matched by HMAC, stored-prefix prefix or last four."""

    email: str | None = None
    api_key: str | None = None  # as given (echoed in filters_applied)
    key_hash: str | None = None  # HMAC of api_key
    is_active: bool | None = None


class RequestFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The request-monitoring filters; `until` is exclusive (a date-only bound covers its whole day)."""

    model_id: int | None = None
    provider_id: str | None = None
    model_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def growth_rate(first: int, last: int, points: int) -> Decimal:
    """(last − first) / first × 100 at 2 dp; 0 with fewer than 2 points or a zero first value."""
    if points < 2 or first == 0:
        return Decimal("0.00")
    return cents(Decimal(last - first) * 100 / Decimal(first))


def alert_status(rate: Decimal, total: int) -> str:
    if total == 0 or rate >= 90:
        return "ok"
    return "warning" if rate >= 70 else "critical"


GOOD = "API key tracking quality is good. No action needed."


def recommendations(*, total: int, user_without_key: int, anonymous: int, rate: Decimal) -> list[str]:
    found = []
    if user_without_key > 0:
        found.append("Some requests have a user but no API key: check API key lookup in the request path.")
    if total and Decimal(anonymous) * 100 / total > 20:
        found.append("More than 20% of requests are anonymous.")
    if total and rate < 90:
        found.append("API key tracking is below 90%.")
    return found or [GOOD]


class DomainRefused(GatewayError):
    """#1628: a domain that is not a plain hostname, or a protected one: 400 with the reason."""

    code = "invalid_domain"


PROTECTED_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "protonmail.com")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


def email_domain(raw: str, protected: tuple[str, ...]) -> str:
    """Lower-cased and trimmed; labels of [a-z0-9-] with at least one dot, and not protected."""
    domain = raw.strip().lower()
    if len(domain) > 253 or not HOSTNAME.fullmatch(domain):
        raise DomainRefused("Invalid domain")
    if domain in {p.strip().lower() for p in protected}:
        raise DomainRefused("Cannot delete protected domain")
    return domain
