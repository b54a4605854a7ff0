"""Credits: admin grants and adjustments, ledger reads, the caller's balance and transactions."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.adjust_credits import AdjustCredits
from domain.services.bulk_add_credits import BulkAddCredits
from domain.services.credit_queries import GetBalance, ListOwnTransactions, SearchTransactions, SummarizeCredits
from domain.services.grant_credits import AddCredits, GrantCredits
from domain.services.refund_credits import RefundCredits


@dataclass(frozen=True, slots=True)
class CreditsServices:
    grant_credits: GrantCredits
    add_credits: AddCredits
    adjust_credits: AdjustCredits
    bulk_add_credits: BulkAddCredits
    refund_credits: RefundCredits
    search_transactions: SearchTransactions
    summarize_credits: SummarizeCredits
    get_balance: GetBalance
    list_own_transactions: ListOwnTransactions


# what a handler writes to receive it (`credits_services: CreditsBundle`)
CreditsBundle = NamedDependency[CreditsServices]
