"""The credit services wired to their memory twins (store, clock, bus, hold store)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from adapters.memory.holds import MemoryHoldStore
from domain.accounts import User
from domain.credits import GrantPolicy
from domain.services.adjust_credits import AdjustCredits
from domain.services.balance_changed import BalanceChanged
from domain.services.bulk_add_credits import BulkAddCredits
from domain.services.credit_queries import GetBalance, ListOwnTransactions, SearchTransactions, SummarizeCredits
from domain.services.grant_credits import AddCredits, GrantCredits
from domain.services.idempotent_write import IdempotentWrite
from domain.services.refund_credits import RefundCredits
from domain.services.verify_ledger import VerifyLedger
from tests.unit.accounts_world import SECRET, World, build_world


@dataclass
class CreditsWorld:
    w: World
    holds: MemoryHoldStore
    grant: GrantCredits
    add: AddCredits
    adjust: AdjustCredits
    bulk: BulkAddCredits
    refund: RefundCredits
    search: SearchTransactions
    summarize: SummarizeCredits
    balance: GetBalance
    own: ListOwnTransactions
    verify: VerifyLedger

    async def admin(self, email: str = "root@example.com") -> User:
        return (await self.w.create_user(email=email, admin=True)).user

    async def user(self, email: str, credits: Decimal | int = 0) -> tuple[User, str]:
        created = await self.w.create_user(email=email, credits=Decimal(credits))
        return created.user, created.api_key

    def balance_of(self, user_id: int) -> Decimal:
        return self.w.store.users[user_id].balance


def build_credits_world(*, max_grant: str = "100", daily_limit: str = "250") -> CreditsWorld:
    w = build_world()
    holds = MemoryHoldStore()
    policy = GrantPolicy(max_grant=Decimal(max_grant), daily_limit=Decimal(daily_limit))
    write = IdempotentWrite(w.uow, w.clock)
    changed = BalanceChanged(w.bus, holds)
    return CreditsWorld(
        w=w, holds=holds,
        grant=GrantCredits(write, w.clock, w.directory, SECRET, policy, changed),
        add=AddCredits(write, w.clock, policy, changed),
        adjust=AdjustCredits(write, w.clock, policy, changed),
        bulk=BulkAddCredits(write, w.clock, policy, changed),
        refund=RefundCredits(write, w.clock, changed),
        search=SearchTransactions(w.uow), summarize=SummarizeCredits(w.uow),
        balance=GetBalance(w.uow, w.clock, holds), own=ListOwnTransactions(w.uow),
        verify=VerifyLedger(w.uow, w.clock, holds, batch=3),
    )
