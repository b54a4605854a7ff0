"""The shared HTTP helpers every area uses: envelope, page facts, money, parameter bounds, 404 texts."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from adapters.http.params import BIGINT_MAX, MAX_OFFSET, RowIdField
from adapters.http.schemas.envelope import Envelope, PageInfo, envelope
from adapters.http.schemas.money import money
from domain import not_found


def test_a_list_envelope_counts_its_items_and_an_object_envelope_does_not() -> None:
    assert msgspec.json.decode(msgspec.json.encode(envelope([1, 2, 3], "ok"))) == {
        "success": True, "data": [1, 2, 3], "count": 3, "message": "ok"}
    assert msgspec.json.decode(msgspec.json.encode(envelope({"id": 1}))) == {
        "success": True, "data": {"id": 1}, "count": None, "message": None}
    assert envelope("text").count is None


def test_money_inside_an_envelope_stays_an_exact_fixed_point_number() -> None:
    body = msgspec.json.encode(Envelope(data={"amount": money(Decimal("1E-10"))}))
    assert b'"amount":0.0000000001' in body


@pytest.mark.parametrize(("total", "limit", "offset", "expected"), [
    (0, 10, 0, (False, 1, 0)),
    (10, 10, 0, (False, 1, 1)),
    (11, 10, 0, (True, 1, 2)),
    (11, 10, 10, (False, 2, 2)),
    (250, 100, 200, (False, 3, 3)),
])
def test_page_facts_follow_from_total_limit_and_offset(total: int, limit: int, offset: int,
                                                      expected: tuple[bool, int, int]) -> None:
    page = PageInfo.of(total=total, limit=limit, offset=offset)
    assert (page.has_more, page.current_page, page.total_pages) == expected


def test_body_ids_are_bounded_by_what_a_bigint_holds() -> None:
    class Body(msgspec.Struct):
        user_id: RowIdField

    assert msgspec.json.decode(f'{{"user_id": {BIGINT_MAX}}}'.encode(), type=Body).user_id == BIGINT_MAX
    for bad in (0, -1, BIGINT_MAX + 1):
        with pytest.raises(msgspec.ValidationError, match="user_id"):
            msgspec.json.decode(f'{{"user_id": {bad}}}'.encode(), type=Body)
    assert MAX_OFFSET == 1_000_000_000


def test_the_seeds_404_texts() -> None:
    assert not_found.user().message == "User not found"
    assert not_found.user(7).message == "User 7 not found"
    assert not_found.api_key(3).message == "API key 3 not found"
    assert not_found.coupon().message == "Coupon not found"
    assert not_found.coupon("or already inactive").message == "Coupon not found or already inactive"
    assert not_found.model().code == "model_not_found"
    assert not_found.breaker("acme").message == "Circuit breaker for provider 'acme' not found"
