"""CreateUser: a user, their first API key and any opening credit, in one transaction."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import msgspec

from domain.accounts import NewUser, Role, User, username_with_suffix
from domain.audit import USER_CREATED, AuditEvent
from domain.errors import Conflict, InvalidInput
from domain.ledger import TransactionType
from domain.money import ZERO, usd
from domain.services.issue_api_key import IssueApiKey
from domain.services.post_transaction import post_transaction
from ports.clock import Clock
from ports.uow import UnitOfWork, UnitOfWorkFactory

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CreatedUser(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    api_key: str
    api_key_id: int


class CreateUser:
    """CLI- and admin-created accounts: `active` from the start (no trial), no password."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, issue_key: IssueApiKey) -> None:
        self._uow = uow
        self._clock = clock
        self._issue_key = issue_key

    async def __call__(self, *, email: str, username: str | None = None, admin: bool = False,
                       credits: Decimal = ZERO, created_by: str = "cli") -> CreatedUser:
        email = email.strip().lower()
        if not _EMAIL.match(email) or len(email) > 254:
            raise InvalidInput("not a valid email address", field="email")
        try:
            credits = usd(credits)
        except ValueError as exc:
            raise InvalidInput("credits out of range", field="credits") from exc
        if credits < 0:
            raise InvalidInput("credits must not be negative", field="credits")
        derived = not username
        username = (username or email.split("@", 1)[0]).strip()
        if not username or len(username) > 100:
            raise InvalidInput("username must be 1-100 characters", field="username")
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise Conflict(f"A user with email {email} already exists")
            user = await self._add(uow, NewUser(
                email=email, username=username, role=Role.ADMIN if admin else Role.USER,
            ), derived=derived, now=now)
            if credits > 0:
                await post_transaction(uow, user_id=user.id, amount=credits, kind=TransactionType.ADMIN_CREDIT,
                                       now=now, description="Opening credit", created_by=created_by)
                user = msgspec.structs.replace(user, purchased_credits=credits)
            issued = await self._issue_key.within(uow, user.id)
            await uow.audit.record(AuditEvent(
                event_type=USER_CREATED, created_at=now, user_id=user.id, details={"by": created_by},
            ))
            await uow.commit()
        return CreatedUser(user=user, api_key=issued.plaintext, api_key_id=issued.key.id)

    @staticmethod
    async def _add(uow: UnitOfWork, new: NewUser, *, derived: bool, now: datetime) -> User:
        """A username derived from the email gets a random suffix when taken; a chosen one is a 409."""
        for _ in range(5):
            try:
                return await uow.users.add(new, now=now)
            except Conflict as exc:
                if exc.code == "email_taken":
                    raise Conflict(f"A user with email {new.email} already exists") from exc
                if exc.code == "username_taken" and not derived:
                    raise Conflict(f"Username {new.username} is already taken", code="username_taken") from exc
                if exc.code not in ("username_taken", "referral_code_taken"):
                    raise
                if exc.code == "username_taken":
                    new = msgspec.structs.replace(new, username=username_with_suffix(new.username))
        raise Conflict(f"Username {new.username} is already taken", code="username_taken")
