"""Admin credit management (#1727-#1732): summary, transaction search, add, adjust, bulk add, refund.
Writes accept an optional Idempotency-Key header; a replay answers with the first result."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, HeaderParameter, JSONBody

from adapters.http.bundles.credits import CreditsBundle
from adapters.http.params import FilterId, Limit1000, Offset
from adapters.http.schemas.credits import (
    BulkAddIn,
    BulkCreditOut,
    CreditAddIn,
    CreditAdjustIn,
    CreditOut,
    PageOut,
    RefundIn,
    TransactionsOut,
    system_summary_out,
    transaction_out,
    user_summary_out,
)
from adapters.http.schemas.money import money
from domain.credits import plain
from domain.services.credit_queries import SystemCreditSummary

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
REPLAYED_HEADER = "Idempotent-Replayed"


def replayable(body: Any, replayed: bool) -> Response[Any]:
    """200 with the body; a replayed result says so in a header (the body is the first one's)."""
    return Response(body, status_code=200, headers={REPLAYED_HEADER: "true"} if replayed else None)


def _admin(request: Request[Any, Any, Any]) -> Any:
    return request.state.principal.user


class CreditsController(Controller):
    path = "/credits"
    tags = ["credits", "admin"]
    opt = {"auth": "admin"}

    @get("/summary", operation_id="credits_summary")
    async def summary(self, credits_services: CreditsBundle, user_id: FromQuery[int | None] = None,
                      from_date: FromQuery[str | None] = None, to_date: FromQuery[str | None] = None) -> dict[str, Any]:
        result = await credits_services.summarize_credits(user_id=user_id, from_date=from_date, to_date=to_date)
        filters = {"from_date": from_date, "to_date": to_date}
        now = datetime.now(UTC)
        if isinstance(result, SystemCreditSummary):
            b = result.balances
            return {"status": "success", "system_summary": system_summary_out(result.summary, b.users, b.total,
                                                                              b.average),
                    "filters": filters, "timestamp": now}
        u = result.user
        return {"status": "success", "user_id": u.id,
                "user_info": {"id": u.id, "username": u.username, "credits": money(u.balance)},
                "current_balance": money(u.balance), "summary": user_summary_out(result.summary),
                "filters": filters, "timestamp": now}

    @get("/transactions", operation_id="credits_transactions")
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
    ) -> TransactionsOut:
        page = await credits_services.search_transactions(
            limit=limit, offset=offset, user_id=user_id, transaction_type=transaction_type, from_date=from_date,
            to_date=to_date, min_amount=min_amount, max_amount=max_amount, direction=direction, sort_by=sort_by,
            sort_order=sort_order)
        filters = {"user_id": user_id, "transaction_type": transaction_type, "from_date": from_date,
                   "to_date": to_date, "min_amount": money(min_amount) if min_amount is not None else None,
                   "max_amount": money(max_amount) if max_amount is not None else None, "direction": direction,
                   "sort_by": sort_by, "sort_order": sort_order}
        return TransactionsOut(
            status="success", transactions=[transaction_out(t) for t in page.transactions],
            pagination=PageOut(total=len(page.transactions), limit=limit, offset=offset, has_more=page.has_more),
            filters_applied=filters, timestamp=datetime.now(UTC))

    @post("/add", operation_id="credits_add", status_code=200)
    async def add(self, request: Request[Any, Any, Any], credits_services: CreditsBundle, data: JSONBody[CreditAddIn],
                  idempotency_key: IdempotencyKey = None) -> Response[CreditOut]:
        done = await credits_services.add_credits(
            _admin(request), user_id=data.user_id, amount=data.amount, reason=data.reason,
            description=data.description, metadata=data.metadata, idempotency_key=idempotency_key)
        c = done.value
        return replayable(CreditOut.of(c, f"Added {plain(c.amount)} credits to user {c.user_id}"), done.replayed)

    @post("/adjust", operation_id="credits_adjust", status_code=200)
    async def adjust(self, request: Request[Any, Any, Any], credits_services: CreditsBundle,
                     data: JSONBody[CreditAdjustIn],
                     idempotency_key: IdempotencyKey = None) -> Response[CreditOut]:
        done = await credits_services.adjust_credits(
            _admin(request), user_id=data.user_id, amount=data.amount, reason=data.reason,
            description=data.description, metadata=data.metadata, idempotency_key=idempotency_key)
        c = done.value
        verb = "Added" if c.amount > 0 else "Removed"
        return replayable(CreditOut.of(c, f"{verb} {plain(abs(c.amount))} credits for user {c.user_id}"),
                          done.replayed)

    @post("/bulk-add", operation_id="credits_bulk_add", status_code=200)
    async def bulk_add(self, request: Request[Any, Any, Any], credits_services: CreditsBundle,
                       data: JSONBody[BulkAddIn],
                       idempotency_key: IdempotencyKey = None) -> Response[BulkCreditOut]:
        done = await credits_services.bulk_add_credits(
            _admin(request), user_ids=data.user_ids, amount=data.amount, reason=data.reason,
            description=data.description, metadata=data.metadata, idempotency_key=idempotency_key)
        return replayable(BulkCreditOut.of(done.value), done.replayed)

    @post("/refund", operation_id="credits_refund", status_code=200)
    async def refund(self, request: Request[Any, Any, Any], credits_services: CreditsBundle, data: JSONBody[RefundIn],
                     idempotency_key: IdempotencyKey = None) -> Response[CreditOut]:
        done = await credits_services.refund_credits(
            _admin(request), user_id=data.user_id, amount=data.amount, reason=data.reason,
            original_transaction_id=data.original_transaction_id, metadata=data.metadata,
            idempotency_key=idempotency_key)
        c = done.value
        return replayable(CreditOut.of(c, f"Refunded {plain(c.amount)} credits to user {c.user_id}"),
                          done.replayed)
