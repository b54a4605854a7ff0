"""Credits: admin grants under the cap and daily limit, adjustments, refunds (Idempotency-Key aware),
ledger reads, the caller's balance, and `gatewayz ledger verify`."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.credits import CreditsServices
from adapters.http.controllers.admin_credits import AdminCreditsController
from adapters.http.controllers.admin_ledger import AdminLedgerController
from adapters.http.controllers.credits import CreditsController
from adapters.http.controllers.user_balance import UserBalanceController
from domain.credits import GrantPolicy
from domain.services.adjust_credits import AdjustCredits
from domain.services.balance_changed import BalanceChanged
from domain.services.bulk_add_credits import BulkAddCredits
from domain.services.credit_queries import GetBalance, ListOwnTransactions, SearchTransactions, SummarizeCredits
from domain.services.grant_credits import AddCredits, GrantCredits
from domain.services.idempotent_write import IdempotentWrite
from domain.services.refund_credits import RefundCredits
from domain.services.verify_ledger import VerifyLedger


class CreditsArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    uow = providers.Dependency()
    clock = providers.Dependency()
    bus = providers.Dependency()
    holds = providers.Dependency()
    key_directory = providers.Dependency()
    key_secret = providers.Dependency()

    grant_policy = providers.Singleton(GrantPolicy, max_grant=settings.provided.admin_max_credit_grant,
                                       daily_limit=settings.provided.admin_daily_grant_limit)
    idempotent_write = providers.Singleton(IdempotentWrite, uow, clock)
    balance_changed = providers.Singleton(BalanceChanged, bus, holds)
    grant_credits = providers.Singleton(GrantCredits, idempotent_write, clock, key_directory, key_secret,
                                        grant_policy, balance_changed)
    add_credits = providers.Singleton(AddCredits, idempotent_write, clock, grant_policy, balance_changed)
    adjust_credits = providers.Singleton(AdjustCredits, idempotent_write, clock, grant_policy, balance_changed)
    bulk_add_credits = providers.Singleton(BulkAddCredits, idempotent_write, clock, grant_policy, balance_changed)
    refund_credits = providers.Singleton(RefundCredits, idempotent_write, clock, balance_changed)
    search_transactions = providers.Singleton(SearchTransactions, uow)
    summarize_credits = providers.Singleton(SummarizeCredits, uow)
    get_balance = providers.Singleton(GetBalance, uow, clock, holds)
    list_own_transactions = providers.Singleton(ListOwnTransactions, uow)
    verify_ledger = providers.Singleton(VerifyLedger, uow, clock, holds)
    bundle = providers.Singleton(
        CreditsServices, grant_credits, add_credits, adjust_credits, bulk_add_credits, refund_credits,
        search_transactions, summarize_credits, get_balance, list_own_transactions)


HTTP = Area("credits", [AdminCreditsController, AdminLedgerController, CreditsController, UserBalanceController])
