"""RegisterUser (#1646): a direct account (no Privy), its starter credit and a primary key shown once.
The database's case-insensitive unique indexes decide a race between two registrations."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.accounts import EMAIL_SHAPE, User, normalize_email
from domain.api_keys import ALL_SCOPES, KeyKind
from domain.audit import AUTH_REGISTER, AuditEvent
from domain.email_policy import EmailPolicy
from domain.errors import AccountRefused, Conflict, InvalidInput
from domain.notifications import Email, welcome
from domain.services.issue_api_key import IssueApiKey, KeyOptions
from domain.services.open_account import AccountRequest, OpenAccount
from ports.clock import Clock
from ports.notifications import Notifier
from ports.passwords import PasswordHasher
from ports.uow import UnitOfWorkFactory

EMAIL_TAKEN = "User with this email already exists"
USERNAME_TAKEN = "Username already taken"
EMAIL_NOT_ALLOWED = "This email address is not allowed"


class Registered(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    api_key: str
    api_key_id: int
    starter_credits: Decimal  # what the account was opened with


def refused(exc: Conflict) -> AccountRefused:
    """The seed's 400 texts for what a unique index refused."""
    if exc.code == "username_taken":
        return AccountRefused(USERNAME_TAKEN)
    return AccountRefused(EMAIL_TAKEN)


class WelcomeSent:
    """After the welcome email went out: users.welcome_email_sent."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, message: Email) -> None:
        if message.user_id is None:
            return
        async with self._uow() as uow:
            await uow.users.mark_welcome_sent(message.user_id)
            await uow.commit()


class RegisterUser:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, issue_key: IssueApiKey, accounts: OpenAccount,
                 email_policy: EmailPolicy, hasher: PasswordHasher, notifier: Notifier) -> None:
        self._uow = uow
        self._clock = clock
        self._issue_key = issue_key
        self._accounts = accounts
        self._email_policy = email_policy
        self._hasher = hasher
        self._notifier = notifier
        self._welcome_sent = WelcomeSent(uow)

    async def __call__(self, *, username: str, email: str, password: str | None = None, auth_method: str = "email",
                       environment: str = "live", key_name: str = "Primary Key",
                       referral_code: str | None = None) -> Registered:
        email = normalize_email(email)
        if not EMAIL_SHAPE.match(email) or len(email) > 254:
            raise InvalidInput("value is not a valid email address", field="email")
        if self._email_policy.blocked(email):
            raise AccountRefused(EMAIL_NOT_ALLOWED)
        password_hash = await self._hasher.hash(password) if password else None
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise AccountRefused(EMAIL_TAKEN)
            if await uow.users.get_by_username(username) is not None:
                raise AccountRefused(USERNAME_TAKEN)
            try:
                user = await self._accounts.within(uow, AccountRequest(
                    email=email, username=username, derive_username=False, bot=self._email_policy.disposable(email),
                    auth_method=auth_method, password_hash=password_hash, referral_code=referral_code), now=now)
            except Conflict as exc:
                raise refused(exc) from exc
            issued = await self._issue_key.within(uow, user.id, options=KeyOptions(
                name=key_name, environment=environment, kind=KeyKind.STANDARD.value, is_primary=True,
                scopes=ALL_SCOPES), by="register")
            await uow.audit.record(AuditEvent(event_type=AUTH_REGISTER, created_at=now, user_id=user.id,
                                              api_key_id=issued.key.id, details={"method": "password"}))
            await uow.commit()
        await self._notifier.send(welcome(user.email, user.username, user_id=user.id), on_sent=self._welcome_sent)
        return Registered(user=user, api_key=issued.plaintext, api_key_id=issued.key.id,
                          starter_credits=user.subscription_allowance)
