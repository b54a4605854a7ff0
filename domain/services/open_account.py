"""OpenAccount: the one way a person's account comes into being (registration, first Privy login):
the user row, the trial and its starter credit, the referral, in the caller's unit of work."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain.accounts import (
    AccountPolicy,
    NewUser,
    SubscriptionStatus,
    User,
    username_with_suffix,
)
from domain.errors import Conflict
from domain.ledger import TransactionType
from domain.money import usd
from domain.services.post_transaction import post_transaction
from ports.uow import UnitOfWork

USERNAME_ATTEMPTS = 5


class AccountRequest(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    username: str
    derive_username: bool  # True: a taken username gets a random suffix; False: it is the caller's choice
    bot: bool = False
    auth_method: str = "email"
    password_hash: str | None = None
    privy_user_id: str | None = None
    display_name: str | None = None
    phone_number: str | None = None
    referral_code: str | None = None


class OpenAccount:
    def __init__(self, policy: AccountPolicy) -> None:
        self._policy = policy

    async def within(self, uow: UnitOfWork, request: AccountRequest, *, now: datetime) -> User:
        """Raises Conflict (email_taken, username_taken, privy_taken) from the database's unique indexes."""
        policy = self._policy
        trial = not request.bot and policy.trial_duration_days > 0
        credits = usd(policy.new_user_credits) if not request.bot else usd(0)
        status = (SubscriptionStatus.BOT if request.bot else
                  SubscriptionStatus.TRIAL if trial else SubscriptionStatus.ACTIVE).value
        referred_by = await self._referrer(uow, request.referral_code)
        username = request.username
        if request.derive_username and await uow.users.get_by_username(username) is not None:
            username = username_with_suffix(request.username)
        new = NewUser(
            email=request.email, username=username, privy_user_id=request.privy_user_id,
            display_name=request.display_name, phone_number=request.phone_number,
            auth_method=request.auth_method, password_hash=request.password_hash, subscription_status=status,
            trial_started_at=now if trial else None,
            trial_expires_at=now + timedelta(days=policy.trial_duration_days) if trial else None,
            trial_credits=credits if trial else None, referred_by_code=referred_by)
        user = await self._insert(uow, new, derive=request.derive_username, now=now)
        if credits > 0:
            await post_transaction(uow, user_id=user.id, amount=credits, kind=TransactionType.TRIAL, now=now,
                                   description="Starter credit", created_by="system")
            user = msgspec.structs.replace(user, subscription_allowance=credits)
        return user

    @staticmethod
    async def _referrer(uow: UnitOfWork, code: str | None) -> str | None:
        """A code naming an existing user is kept; anything else is ignored (never a failure)."""
        if not code or len(code.strip()) != 8:
            return None
        owner = await uow.users.get_by_referral_code(code)
        return owner.referral_code if owner is not None else None

    @staticmethod
    async def _insert(uow: UnitOfWork, new: NewUser, *, derive: bool, now: datetime) -> User:
        for attempt in range(USERNAME_ATTEMPTS):
            try:
                return await uow.users.add(new, now=now)
            except Conflict as exc:
                if exc.code == "referral_code_taken" or (exc.code == "username_taken" and derive
                                                         and attempt < USERNAME_ATTEMPTS - 1):
                    new = msgspec.structs.replace(
                        new, referral_code="",
                        username=username_with_suffix(new.username) if exc.code == "username_taken"
                        else new.username)
                    continue
                raise
        raise Conflict("Username already taken", code="username_taken")
