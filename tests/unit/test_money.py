from decimal import Decimal

import pytest

from domain.accounts import User
from domain.money import PLACES, ZERO, token_cost, total, usd


def test_amounts_are_kept_to_exactly_ten_decimal_places() -> None:
    assert usd("1.23") == Decimal("1.23")
    assert usd("1.23").as_tuple().exponent == -10
    assert usd(5) == Decimal(5)
    assert PLACES == Decimal("0.0000000001")
    assert ZERO == 0


@pytest.mark.parametrize(("raw", "expected"), [
    ("0.00000000005", "0.0000000000"),   # half to even: down to 0
    ("0.00000000015", "0.0000000002"),   # half to even: up to 2
    ("0.00000000025", "0.0000000002"),   # half to even: down to 2
    ("0.000000000251", "0.0000000003"),  # above half: up
    ("-0.00000000015", "-0.0000000002"),
])
def test_rounding_to_the_ledger_precision_is_half_even(raw: str, expected: str) -> None:
    assert format(usd(raw), "f") == expected


@pytest.mark.parametrize(("amount", "printed"), [
    ("0.0000000001", "0.0000000001"),
    ("12345678901234567890.0123456789", "12345678901234567890.0123456789"),
    ("-7.5", "-7.5000000000"),
])
def test_an_amount_within_ledger_precision_is_unchanged_even_with_twenty_integer_digits(amount: str,
                                                                                        printed: str) -> None:
    assert usd(amount) == Decimal(amount)
    assert format(usd(amount), "f") == printed


def test_a_float_is_refused_so_binary_error_never_enters_the_ledger() -> None:
    with pytest.raises(TypeError, match="float"):
        usd(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["abc", "", "1,5", "NaN", "Infinity", "-Infinity"])
def test_text_that_is_not_a_finite_amount_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        usd(raw)


def test_token_cost_is_exact_at_a_price_per_million_tokens() -> None:
    assert token_cost(1_000_000, Decimal("3")) == Decimal(3)
    assert token_cost(1, Decimal("0.15")) == Decimal("0.00000015")
    assert token_cost(333, Decimal("0.07")) == Decimal("0.00002331")
    assert token_cost(0, Decimal("10")) == 0
    assert isinstance(token_cost(7, Decimal("1")), Decimal)


def test_totals_are_exact_for_every_amount_the_ledger_can_hold() -> None:
    big = Decimal("12345678901234567890.0123456789")
    assert total([big, Decimal("0.0000000001")]) == Decimal("12345678901234567890.0123456790")
    assert total([Decimal("0.1")] * 3) == Decimal("0.3")
    assert total([]) == 0


def test_a_balance_is_the_exact_sum_of_allowance_and_purchased_credits() -> None:
    user = User(id=1, email="a@b.co", username="a", subscription_allowance=Decimal("12345678901234567890.0123456789"),
                purchased_credits=Decimal("0.0000000001"))
    assert user.balance == Decimal("12345678901234567890.0123456790")


@pytest.mark.parametrize("raw", ["1e20", "-1e20", "99999999999999999999.99999999999", "1e70", "-5e400"])
def test_an_amount_beyond_what_the_ledger_columns_hold_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        usd(raw)


def test_the_largest_amount_the_ledger_holds_is_accepted() -> None:
    assert usd("99999999999999999999.9999999999") == Decimal("99999999999999999999.9999999999")
    assert usd("-99999999999999999999.9999999999") == Decimal("-99999999999999999999.9999999999")
