"""PasswordLogin (POST /auth/login): email + password -> a new login key. Every failure is the same
401 after the same work (a dummy hash is verified when there is no user to check against)."""

from __future__ import annotations

import hashlib

import msgspec

from domain.accounts import AccountPolicy, User, normalize_email
from domain.audit import AUTH_LOGIN, AuditEvent
from domain.errors import AttemptsExceeded, InvalidCredentials
from domain.invalidation import KEYS_TOPIC
from domain.services.issue_api_key import IssueApiKey, IssuedKey
from ports.attempts import AttemptLimiter
from ports.bus import CacheBus
from ports.clock import Clock
from ports.passwords import PasswordHasher
from ports.uow import UnitOfWorkFactory


class LoggedIn(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    issued: IssuedKey | None


def account_bucket(kind: str, email: str) -> str:
    """Per-account attempt buckets are keyed by a digest: the limiter never holds addresses."""
    return f"{kind}:{hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]}"


class PasswordLogin:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, issue_key: IssueApiKey, hasher: PasswordHasher,
                 attempts: AttemptLimiter, bus: CacheBus, policy: AccountPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._issue_key = issue_key
        self._hasher = hasher
        self._attempts = attempts
        self._bus = bus
        self._policy = policy
        self._dummy: str | None = None

    async def __call__(self, *, email: str, password: str, environment: str = "live") -> LoggedIn:
        limit, window = self._policy.failed_logins_per_email
        bucket = account_bucket("login-failed", email)
        now_s = self._clock.now().timestamp()
        wait = await self._attempts.peek(bucket, limit=limit, window_s=window, now=now_s)
        if wait is not None:
            raise AttemptsExceeded(int(wait) + 1)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            stored = await uow.users.password_hash(user.id) if user is not None else None
        if stored is None:
            await self._hasher.verify(await self._dummy_hash(), password)
            await self._failed(bucket, limit, window, now_s)
        assert user is not None and stored is not None
        if not await self._hasher.verify(stored, password) or not user.is_active:
            await self._failed(bucket, limit, window, now_s)
        rehashed = await self._hasher.hash(password) if self._hasher.needs_rehash(stored) else None
        now = self._clock.now()
        async with self._uow() as uow:
            if rehashed is not None:
                await uow.users.set_password_hash(user.id, rehashed, now=now)
            issued = await self._issue_key.login_key(uow, user.id, method="password", environment=environment,
                                                     ttl_days=self._policy.login_key_ttl_days,
                                                     keep=self._policy.login_keys_per_user)
            await uow.audit.record(AuditEvent(event_type=AUTH_LOGIN, created_at=now, user_id=user.id,
                                              api_key_id=issued.key.id, details={"method": "password"}))
            await uow.commit()
        for key_hash in issued.revoked_hashes:
            await self._bus.publish(KEYS_TOPIC, key_hash)
        await self._attempts.clear(bucket)
        return LoggedIn(user=user, issued=issued)

    async def _failed(self, bucket: str, limit: int, window: float, now_s: float) -> None:
        await self._attempts.hit(bucket, limit=limit, window_s=window, now=now_s)
        raise InvalidCredentials()

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self._hasher.hash("not a password anyone has: timing equaliser")
        return self._dummy
