"""The caller's own credits: GET /user/balance and GET /user/credit-transactions (newest first)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from adapters.http.bundles.credits import CreditsBundle
from adapters.http.params import Limit1000, Offset
from adapters.http.schemas.credits import BalanceOut, OwnTransactionsOut, PageOut, transaction_out
from adapters.http.schemas.money import money


class UserBalanceController(Controller):
    path = "/user"
    tags = ["user", "credits"]
    opt = {"auth": "user"}

    @get("/balance", operation_id="user_balance")
    async def balance(self, request: Request[Any, Any, Any], credits_services: CreditsBundle) -> BalanceOut:
        view = await credits_services.get_balance(request.state.principal.user.id)
        b = view.balances
        return BalanceOut(user_id=view.user_id, credits=money(b.total),
                          subscription_allowance=money(b.subscription_allowance),
                          purchased_credits=money(b.purchased_credits), held=money(view.held))

    @get("/credit-transactions", operation_id="user_credit_transactions")
    async def transactions(
        self, request: Request[Any, Any, Any], credits_services: CreditsBundle,
        limit: Limit1000 = 50,
        offset: Offset = 0,
    ) -> OwnTransactionsOut:
        page = await credits_services.list_own_transactions(request.state.principal.user.id, limit=limit,
                                                          offset=offset)
        return OwnTransactionsOut(
            transactions=[transaction_out(t) for t in page.transactions],
            pagination=PageOut(total=len(page.transactions), limit=limit, offset=offset, has_more=page.has_more))
