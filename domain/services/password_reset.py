"""Password reset done for real (#1647, #1648): a one-time token of 32 random bytes, only its SHA-256
stored; consuming it and setting the new hash happen in one transaction, at most once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from domain.accounts import AccountPolicy, normalize_email
from domain.api_keys import KeyKind
from domain.audit import API_KEY_REVOKED, PASSWORD_CHANGED, PASSWORD_RESET_REQUESTED, AuditEvent
from domain.errors import GatewayError
from domain.invalidation import KEYS_TOPIC, USERS_TOPIC
from domain.notifications import password_changed, password_reset
from domain.password_resets import token_digest
from domain.services.password_login import account_bucket
from ports.attempts import AttemptLimiter
from ports.bus import CacheBus
from ports.clock import Clock
from ports.notifications import Notifier
from ports.passwords import PasswordHasher
from ports.uow import UnitOfWork, UnitOfWorkFactory

INVALID_TOKEN = "Invalid or expired reset token"
EXPIRED_TOKEN = "Reset token has expired"


class ResetTokenRefused(GatewayError):
    """400 with the seed's text: unknown, used or expired token."""

    code = "invalid_reset_token"


class RequestPasswordReset:
    """Always the same answer; the work for an existing account is a token and a queued email."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, notifier: Notifier, attempts: AttemptLimiter,
                 policy: AccountPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._notifier = notifier
        self._attempts = attempts
        self._policy = policy

    async def __call__(self, email: str, *, requester_ip: str | None = None) -> None:
        email = normalize_email(email)
        now = self._clock.now()
        limit, window = self._policy.resets_per_email
        if await self._attempts.hit(account_bucket("reset", email), limit=limit, window_s=window,
                                    now=now.timestamp()) is not None:
            return  # no mail-bombing one inbox from many addresses; the answer stays the same
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None or not user.is_active or user.deleted_at is not None:
                return
            await uow.reset_tokens.invalidate_for_user(user.id, now=now)
            await uow.reset_tokens.add(user_id=user.id, token_hash=token_digest(token), now=now,
                                       expires_at=now + timedelta(seconds=self._policy.reset_token_ttl_s),
                                       requester_ip=requester_ip)
            await uow.audit.record(AuditEvent(event_type=PASSWORD_RESET_REQUESTED, created_at=now, user_id=user.id,
                                              details={"ip": requester_ip}))
            await uow.commit()
        link = f"{self._policy.public_app_url}/reset-password?token={quote(token)}"
        await self._notifier.send(password_reset(user.email, user.username, link, user_id=user.id,
                                                 ttl_minutes=max(1, self._policy.reset_token_ttl_s // 60)))


class ResetPassword:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher, notifier: Notifier,
                 bus: CacheBus) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._notifier = notifier
        self._bus = bus

    async def __call__(self, token: str, new_password: str) -> None:
        digest = token_digest(token)
        password_hash = await self._hasher.hash(new_password)
        now = self._clock.now()
        async with self._uow() as uow:
            user_id = await uow.reset_tokens.consume(digest, now=now)
            if user_id is None:
                found = await uow.reset_tokens.find(digest)
                if found is not None and found.used_at is None and found.expires_at <= now:
                    raise ResetTokenRefused(EXPIRED_TOKEN)
                raise ResetTokenRefused(INVALID_TOKEN)
            user = await uow.users.get(user_id)
            if user is None or not user.is_active:
                raise ResetTokenRefused(INVALID_TOKEN)
            await uow.users.set_password_hash(user_id, password_hash, now=now)
            revoked = await revoke_login_keys(uow, user_id, now=now, by="password_reset")
            await uow.audit.record(AuditEvent(event_type=PASSWORD_CHANGED, created_at=now, user_id=user_id,
                                              details={"via": "reset", "login_keys_revoked": len(revoked)}))
            await uow.commit()
        for key_hash in revoked:
            await self._bus.publish(KEYS_TOPIC, key_hash)
        await self._bus.publish(USERS_TOPIC, str(user_id))
        await self._notifier.send(password_changed(user.email, user.username, user_id=user_id))


async def revoke_login_keys(uow: UnitOfWork, user_id: int, *, now: datetime, by: str) -> list[str]:
    """Every active login key of the user (their browser sessions); standard keys stay."""
    revoked = []
    for key in await uow.api_keys.list_for_user(user_id):
        if key.kind == KeyKind.LOGIN.value and key.is_active and await uow.api_keys.deactivate(key.id, now=now):
            revoked.append(key.key_hash)
            await uow.audit.record(AuditEvent(event_type=API_KEY_REVOKED, created_at=now, user_id=user_id,
                                              api_key_id=key.id, details={"by": by}))
    return revoked
