"""The caller's own profile: show it, change it (PUT /user/profile), delete the account."""

from __future__ import annotations

from typing import Any

import msgspec

from domain import not_found
from domain.accounts import EMAIL_SHAPE, USERNAME_SHAPE, ProfileChanges, Role, User, normalize_email
from domain.audit import ACCOUNT_DELETED, PROFILE_UPDATED, AuditEvent
from domain.coupons import NothingToUpdate
from domain.errors import AccountRefused, Conflict, InvalidInput
from domain.invalidation import KEYS_TOPIC, USERS_TOPIC
from domain.notifications import email_changed
from domain.services.register_user import EMAIL_TAKEN, USERNAME_TAKEN
from ports.bus import CacheBus
from ports.clock import Clock
from ports.notifications import Notifier
from ports.uow import UnitOfWorkFactory

MAX_PREFERENCES_BYTES = 8192
TYPED_PREFERENCES: dict[str, type] = {"enable_butter_cache": bool}
ONLY_ADMIN = "The only active admin cannot delete itself"


class ShowProfile:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: int) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise not_found.user()
        return user


def _checked(changes: ProfileChanges) -> ProfileChanges:
    if changes.username is not None and not USERNAME_SHAPE.fullmatch(changes.username):
        raise InvalidInput("3-50 characters of letters, digits, '_', '.' or '-'", field="username")
    if changes.display_name is not None and len(changes.display_name) > 100:
        raise InvalidInput("at most 100 characters", field="display_name")
    email = changes.email
    if email is not None:
        email = normalize_email(email)
        if not EMAIL_SHAPE.match(email) or len(email) > 254:
            raise InvalidInput("value is not a valid email address", field="email")
    prefs = changes.preferences
    if prefs is not None:
        if len(msgspec.json.encode(prefs)) > MAX_PREFERENCES_BYTES:
            raise InvalidInput(f"at most {MAX_PREFERENCES_BYTES} bytes of JSON", field="preferences")
        for name, kind in TYPED_PREFERENCES.items():
            if name in prefs and not isinstance(prefs[name], kind):
                raise InvalidInput(f"must be a {kind.__name__}", field=f"preferences.{name}")
    return msgspec.structs.replace(changes, email=email)


class UpdateProfile:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: CacheBus, notifier: Notifier) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._notifier = notifier

    async def __call__(self, user_id: int, changes: ProfileChanges) -> User:
        if all(getattr(changes, f) is None for f in changes.__struct_fields__):
            raise NothingToUpdate()
        changes = _checked(changes)
        now = self._clock.now()
        async with self._uow() as uow:
            before = await uow.users.get(user_id)
            if before is None:
                raise not_found.user()
            try:
                after = await uow.users.update_profile(user_id, changes, now=now)
            except Conflict as exc:
                raise AccountRefused(USERNAME_TAKEN if exc.code == "username_taken" else EMAIL_TAKEN) from exc
            fields: list[str] = [f for f in changes.__struct_fields__ if getattr(changes, f) is not None]
            await uow.audit.record(AuditEvent(event_type=PROFILE_UPDATED, created_at=now, user_id=user_id,
                                              details={"fields": fields}))
            await uow.commit()
        await self._bus.publish(USERS_TOPIC, str(user_id))
        if changes.email is not None and changes.email != before.email:
            await self._notifier.send(email_changed(before.email, before.username, after.email, user_id=user_id))
        return after


class DeleteAccount:
    """Keeps the money trail, drops the person: keys revoked, reset tokens deleted, identity erased.
    The admin domain deletion (#1628) is meant to call this same service."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: CacheBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus

    async def __call__(self, user_id: int, *, by: str = "self") -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            if user is None or user.deleted_at is not None:
                raise not_found.user()
            if user.role is Role.ADMIN and user.is_active and await uow.users.count_active_admins() <= 1:
                raise Conflict(ONLY_ADMIN, code="only_admin")
            hashes: list[str] = []
            for key in await uow.api_keys.list_for_user(user_id):
                hashes += [h for h in (key.key_hash, key.previous_key_hash) if h]
                await uow.api_keys.deactivate(key.id, now=now)
            await uow.reset_tokens.delete_for_user(user_id)
            await uow.users.erase(user_id, now=now)
            details: dict[str, Any] = {"by": by}
            await uow.audit.record(AuditEvent(event_type=ACCOUNT_DELETED, created_at=now, user_id=user_id,
                                              details=details))
            await uow.commit()
        for key_hash in hashes:
            await self._bus.publish(KEYS_TOPIC, key_hash)
        await self._bus.publish(USERS_TOPIC, str(user_id))
