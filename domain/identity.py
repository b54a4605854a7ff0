"""What a verified Privy identity token says about a person.

Identity comes only from the token's `linked_accounts` claim (a JSON string Privy signs); the login
request's body is a client claim and is never read for identity."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.accounts import AuthMethod


class LinkedAccount(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    email: str | None = None
    address: str | None = None
    name: str | None = None
    phone_number: str | None = None
    verified_at: int | None = None


class PrivyIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """The claims of a token whose signature, issuer, audience and times were checked."""

    subject: str
    linked_accounts: tuple[LinkedAccount, ...] = ()


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    email: str | None = None
    email_verified: bool = False
    display_name: str | None = None
    phone_number: str | None = None
    auth_method: str = AuthMethod.EMAIL.value


def linked_accounts(raw: Any) -> tuple[LinkedAccount, ...]:
    """Privy's `linked_accounts` claim: a JSON string (or, tolerated, an already decoded list);
    entries that are not objects are skipped, camelCase `phoneNumber` accepted."""
    if isinstance(raw, str):
        try:
            raw = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return ()
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        verified = item.get("verified_at", item.get("verifiedAt"))
        out.append(LinkedAccount(
            type=item["type"], email=_text(item.get("email")), address=_text(item.get("address")),
            name=_text(item.get("name")),
            phone_number=_text(item.get("phone_number", item.get("phoneNumber"))),
            verified_at=int(verified) if isinstance(verified, int | float) and not isinstance(verified, bool)
            else None))
    return tuple(out)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def identity_of(accounts: tuple[LinkedAccount, ...]) -> Identity:
    """The seed's priority: email, then Google (email and name), then phone, then GitHub name; the
    method falls to phone or GitHub only when no email was found."""
    email: str | None = None
    verified = False
    display_name: str | None = None
    phone: str | None = None
    method = AuthMethod.EMAIL.value
    for account in accounts:
        kind = account.type
        if kind == "email" and email is None:
            value = account.address or account.email
            if value:
                email, verified = value.lower(), account.verified_at is not None
        elif kind == "google_oauth":
            value = account.email or account.address
            if value and email is None:
                email, verified = value.lower(), account.verified_at is not None
                method = AuthMethod.GOOGLE.value
            display_name = display_name or account.name
        elif kind == "phone":
            phone = phone or account.phone_number or account.address
            if email is None:
                method = AuthMethod.PHONE.value
        elif kind in ("github", "github_oauth"):
            display_name = display_name or account.name
            if email is None:
                method = AuthMethod.GITHUB.value
    if email is not None and method in (AuthMethod.PHONE.value, AuthMethod.GITHUB.value):
        method = AuthMethod.EMAIL.value
    return Identity(email=email, email_verified=verified, display_name=display_name, phone_number=phone,
                    auth_method=method)
