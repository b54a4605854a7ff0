"""Billing through the pipeline: holds at admission, exact settlement, release on failure."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from adapters.memory.upstream import Scripted
from domain.errors import InsufficientCredits, UpstreamFailed
from domain.inference import Caller, InferenceRequest, Operation, Usage
from domain.ledger import TransactionType
from domain.services.chat_completion import Reply, StreamReply
from domain.services.settle_request import SettleRequest
from domain.upstream import UpstreamError
from tests.unit.pipeline_kit import Kit, kit

PAYER = Caller(user_id=7, api_key_id=3)


def chat(*, stream: bool = False, max_tokens: int | None = None) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="acme/chat-1", stream=stream, max_tokens=max_tokens,
                            body={"model": "acme/chat-1", "messages": [{"role": "user", "content": "hi"}]},
                            prompt_tokens_estimate=5)


def balance(k: Kit) -> Decimal:
    return k.store.users[7].balance


def usage_rows(k: Kit) -> list[Decimal]:
    return [r.amount for r in k.store.ledger if r.transaction_type is TransactionType.API_USAGE]


async def flushed(k: Kit) -> Kit:
    """Settlement rows are written behind; flush the journal before reading the ledger."""
    await k.settlements.flush()
    return k


async def test_a_served_request_is_charged_exactly_at_the_serving_offers_price() -> None:
    k = kit()
    reply = await k.pipeline(chat(), PAYER)
    assert isinstance(reply, Reply)
    # 10 prompt tokens at $1/M + 2 completion tokens at $2/M
    assert reply.cost == Decimal("0.000014")
    assert k.store.ledger == [] and k.settlements.pending_for(7) == Decimal("0.000014")  # not yet written
    await flushed(k)
    assert usage_rows(k) == [Decimal("-0.0000140000")] and k.settlements.pending_for(7) == 0
    assert balance(k) == Decimal("99.999986")
    [row] = k.store.ledger
    assert row.request_id == reply.request_id and row.metadata["provider"] == "alpha"
    assert next(iter(k.log.records.values())).cost_usd == Decimal("0.000014")
    assert await k.holds.open_holds(now=k.clock.now().timestamp()) == []


async def test_failover_bills_the_dearer_offer_that_actually_served() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=UpstreamError("down", status=503))
    reply = await k.pipeline(chat(), PAYER)
    assert reply.provider.slug == "beta"
    assert usage_rows(await flushed(k)) == [Decimal("-0.0000420000")]  # 10 x $3/M + 2 x $6/M


async def test_when_every_provider_fails_nothing_is_billed_and_the_hold_is_released() -> None:
    k = kit()
    for native in ("chat-1-a", "chat-1-b", "chat-1-g"):
        k.upstream.scripts[native] = Scripted(error=UpstreamError("down", status=500))
    with pytest.raises(UpstreamFailed):
        await k.pipeline(chat(), PAYER)
    assert k.store.ledger == [] and balance(k) == Decimal(100)
    assert await k.holds.open_holds(now=k.clock.now().timestamp()) == []


async def test_a_stream_cut_by_the_client_is_billed_for_what_was_produced() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(text="one two three four five six", usage=False)
    reply = await k.pipeline(chat(stream=True), PAYER)
    assert isinstance(reply, StreamReply)
    chunks = [await anext(reply.chunks), await anext(reply.chunks)]
    await reply.chunks.aclose()  # type: ignore[attr-defined]
    produced = "".join(c.text for c in chunks)
    assert produced == "one two"
    # estimated: the prompt estimate (5) at $1/M + tokens of "one two" (2) at $2/M
    assert usage_rows(await flushed(k)) == [Decimal("-0.0000090000")]


async def test_the_stream_usage_chunk_carries_the_cost() -> None:
    k = kit()
    reply = await k.pipeline(chat(stream=True), PAYER)
    chunks = [c async for c in reply.chunks]
    assert chunks[-1].data["usage"]["cost"] == Decimal("0.000014") and chunks[-1].raw is None


async def test_insufficient_credits_is_402_and_no_provider_is_called() -> None:
    k = kit(balance=Decimal("0.000001"))
    with pytest.raises(InsufficientCredits) as caught:
        await k.pipeline(chat(max_tokens=100), PAYER)
    assert caught.value.details["available"] == Decimal("0.000001")
    assert caught.value.details["required"] > Decimal("0.000001")
    assert k.upstream.calls == [] and k.store.ledger == []


async def test_settling_the_same_request_twice_changes_nothing() -> None:
    k = kit()
    reply = await k.pipeline(chat(), PAYER)
    settle = SettleRequest(k.settlements, k.holds, k.clock)
    again = await settle(PAYER, reply.request_id, reply.model, reply.offer, Usage(prompt_tokens=10,
                         completion_tokens=2), None, produced_output=True)
    assert again.replayed and again.charged == 0
    await flushed(k)
    assert len(usage_rows(k)) == 1 and balance(k) == Decimal("99.999986")


async def test_a_charge_replayed_into_the_journal_is_written_once() -> None:
    k = kit()
    reply = await k.pipeline(chat(), PAYER)
    [charge] = k.settlements.buffer
    await k.settlements.submit(charge)  # e.g. a batch retried after a lost commit acknowledgement
    await flushed(k)
    assert len(usage_rows(k)) == 1 and k.store.ledger[-1].request_id == reply.request_id


async def test_concurrent_requests_never_hold_more_than_the_balance() -> None:
    # Each hold: 5 prompt tokens at the dearest input ($5/M) + 1000 output tokens at the dearest output ($10/M).
    per_hold = Decimal("0.010025")
    k = kit(balance=per_hold * 10)
    k.upstream.scripts["chat-1-a"] = Scripted(delay_s=0.05)
    results = await asyncio.gather(*(k.pipeline(chat(), PAYER) for _ in range(50)), return_exceptions=True)
    admitted = [r for r in results if isinstance(r, Reply)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(admitted), len(refused)) == (10, 40)
    await flushed(k)
    assert balance(k) >= 0
    assert balance(k) == per_hold * 10 + sum(r.amount for r in k.store.ledger)
