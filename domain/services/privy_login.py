"""PrivyLogin (#1645): a verified Privy identity token -> the user (found, linked or created) and a
new login key. Identity comes only from the token; accounts are never matched by username."""

from __future__ import annotations

import re

import msgspec

from domain.accounts import AccountPolicy, User, username_base
from domain.audit import AUTH_LOGIN, AUTH_REGISTER, AuditEvent
from domain.email_policy import EmailPolicy
from domain.errors import AccountRefused, Conflict, Forbidden, InvalidIdentityToken, ServiceUnavailable
from domain.identity import Identity, identity_of
from domain.invalidation import KEYS_TOPIC, USERS_TOPIC
from domain.notifications import welcome
from domain.services.issue_api_key import IssueApiKey, IssuedKey
from domain.services.open_account import AccountRequest, OpenAccount
from domain.services.register_user import EMAIL_NOT_ALLOWED, WelcomeSent
from ports.bus import CacheBus
from ports.clock import Clock
from ports.identity import PrivyVerifier
from ports.notifications import Notifier
from ports.uow import UnitOfWork, UnitOfWorkFactory

TOKEN_REQUIRED = "Privy identity token required"
NOT_CONFIGURED = "Privy login is not configured"
PLACEHOLDER_DOMAIN = "privy.user"


class PrivyLoggedIn(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    issued: IssuedKey | None
    is_new_user: bool


class PrivyLogin:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, verifier: PrivyVerifier, issue_key: IssueApiKey,
                 accounts: OpenAccount, email_policy: EmailPolicy, bus: CacheBus, policy: AccountPolicy,
                 notifier: Notifier) -> None:
        self._uow = uow
        self._clock = clock
        self._verifier = verifier
        self._issue_key = issue_key
        self._accounts = accounts
        self._email_policy = email_policy
        self._bus = bus
        self._policy = policy
        self._notifier = notifier
        self._welcome_sent = WelcomeSent(uow)

    async def __call__(self, *, token: str | None, privy_user_id: str, environment: str = "live",
                       auto_create_api_key: bool = True, referral_code: str | None = None) -> PrivyLoggedIn:
        if not self._verifier.configured:
            raise ServiceUnavailable(NOT_CONFIGURED, reason="privy_not_configured")
        if not token:
            raise InvalidIdentityToken(TOKEN_REQUIRED)
        verified = await self._verifier.verify(token)
        if verified.subject != privy_user_id:
            raise InvalidIdentityToken()
        identity = identity_of(verified.linked_accounts)
        now = self._clock.now()
        async with self._uow() as uow:
            user, is_new, linked = await self._find_or_create(uow, verified.subject, identity, referral_code)
            if not user.is_active:
                raise Forbidden("Account is deactivated")
            issued = None
            if auto_create_api_key:
                issued = await self._issue_key.login_key(uow, user.id, method="privy", environment=environment,
                                                         ttl_days=self._policy.login_key_ttl_days,
                                                         keep=self._policy.login_keys_per_user)
            await uow.audit.record(AuditEvent(
                event_type=AUTH_REGISTER if is_new else AUTH_LOGIN, created_at=now, user_id=user.id,
                api_key_id=issued.key.id if issued else None,
                details={"method": "privy", **({"linked": True} if linked else {})}))
            await uow.commit()
        for key_hash in issued.revoked_hashes if issued else ():
            await self._bus.publish(KEYS_TOPIC, key_hash)
        if linked:
            await self._bus.publish(USERS_TOPIC, str(user.id))
        if is_new and not user.email.endswith("@" + PLACEHOLDER_DOMAIN):
            await self._notifier.send(welcome(user.email, user.username, user_id=user.id),
                                      on_sent=self._welcome_sent)
        return PrivyLoggedIn(user=user, issued=issued, is_new_user=is_new)

    async def _find_or_create(self, uow: UnitOfWork, privy_id: str, identity: Identity,
                              referral_code: str | None) -> tuple[User, bool, bool]:
        user = await uow.users.get_by_privy_id(privy_id)
        if user is not None:
            return user, False, False
        now = self._clock.now()
        if identity.email and identity.email_verified:
            existing = await uow.users.get_by_email(identity.email)
            if existing is not None and existing.privy_user_id is None:
                try:
                    if await uow.users.link_privy(existing.id, privy_id, now=now):
                        return msgspec.structs.replace(existing, privy_user_id=privy_id), False, True
                except Conflict:
                    pass  # a concurrent first login linked this Privy id elsewhere: read it below
                again = await uow.users.get_by_privy_id(privy_id)
                if again is not None:
                    return again, False, False
        email = identity.email
        if email is not None and self._email_policy.blocked(email):
            raise AccountRefused(EMAIL_NOT_ALLOWED)
        if email is None or (await uow.users.get_by_email(email)) is not None:
            # no email, or one that belongs to an account this identity may not claim (unverified)
            email = f"{re.sub(r'[^a-z0-9]', '', privy_id.lower())[-40:] or 'user'}@{PLACEHOLDER_DOMAIN}"
        source = (identity.email or "").split("@", 1)[0] or identity.display_name or "user"
        request = AccountRequest(
            email=email, username=username_base(source), derive_username=True,
            bot=identity.email is not None and self._email_policy.disposable(identity.email),
            auth_method=identity.auth_method, privy_user_id=privy_id, display_name=identity.display_name,
            phone_number=identity.phone_number, referral_code=referral_code)
        try:
            return await self._accounts.within(uow, request, now=now), True, False
        except Conflict:
            winner = await uow.users.get_by_privy_id(privy_id)  # two first logins at once: the loser re-reads
            if winner is None:
                raise
        return winner, False, False
