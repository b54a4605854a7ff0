"""GET /admin/credit-transactions (#1615): the ledger search of /credits/transactions (filters,
amount bounds and pagination in SQL), with the seed's per-user summary on request."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from litestar import Controller, get
from litestar.params import FromQuery

from adapters.http.bundles.credits import CreditsBundle
from adapters.http.params import FilterId, Limit1000, Offset
from adapters.http.schemas.credits import transaction_out, user_summary_out
from adapters.http.schemas.money import money
from domain.services.credit_queries import UserCreditSummary


class AdminLedgerController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @get("/credit-transactions", operation_id="admin_credit_transactions")
    async def transactions(
        self, credits_services: CreditsBundle,
        limit: Limit1000 = 50,
        offset: Offset = 0,
        user_id: FilterId = None,
        transaction_type: FromQuery[str | None] = None,
        from_date: FromQuery[str | None] = None,
        to_date: FromQuery[str | None] = None,
        min_amount: FromQuery[Decimal | None] = None,
        max_amount: FromQuery[Decimal | None] = None,
        direction: FromQuery[str | None] = None,
        sort_by: FromQuery[str] = "created_at",
        sort_order: FromQuery[str] = "desc",
        include_summary: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        page = await credits_services.search_transactions(
            limit=limit, offset=offset, user_id=user_id, transaction_type=transaction_type, from_date=from_date,
            to_date=to_date, min_amount=min_amount, max_amount=max_amount, direction=direction, sort_by=sort_by,
            sort_order=sort_order)
        body: dict[str, Any] = {
            "success": True, "transactions": [transaction_out(t) for t in page.transactions],
            # the seed's contract: `total` is this page's rows, `has_more` whether the page is full
            "pagination": {"total": len(page.transactions), "limit": limit, "offset": offset,
                           "has_more": len(page.transactions) == limit},
            "filters_applied": {
                "user_id": user_id, "transaction_type": transaction_type, "from_date": from_date, "to_date": to_date,
                "min_amount": money(min_amount) if min_amount is not None else None,
                "max_amount": money(max_amount) if max_amount is not None else None, "direction": direction,
                "sort_by": sort_by, "sort_order": sort_order},
            "timestamp": datetime.now(UTC)}
        if include_summary and user_id is not None:
            found = await credits_services.summarize_credits(user_id=user_id, from_date=from_date, to_date=to_date)
            if isinstance(found, UserCreditSummary):
                body["summary"] = user_summary_out(found.summary)
        return body
