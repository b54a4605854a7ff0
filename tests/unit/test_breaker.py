"""The breaker rules, with explicit times (no clock anywhere)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.breaker import BreakerPolicy, BreakerState, BreakerStatus, effective, on_outcome, reset

P = BreakerPolicy()
T0 = 1_767_225_600.0  # a bucket boundary
CLOSED, OPEN, HALF = BreakerStatus.CLOSED, BreakerStatus.OPEN, BreakerStatus.HALF_OPEN


def run(outcomes: list[tuple[float, bool]], state: BreakerState | None = None,
        policy: BreakerPolicy = P) -> BreakerState:
    s = state or BreakerState(provider="p")
    for t, ok in outcomes:
        s = on_outcome(s, ok, t, policy)
    return s


def opened(at: float = T0) -> BreakerState:
    return run([(at, False)] * 5)


def test_a_new_breaker_is_closed_and_allows_traffic() -> None:
    s = BreakerState(provider="p")
    assert s.status is CLOSED and s.allows_traffic(T0, P)
    assert s.failure_rate(T0, P) == 0.0 and s.seconds_until_retry(T0, P) == 0.0


def test_four_consecutive_failures_keep_it_closed() -> None:
    s = run([(T0 + i, False) for i in range(4)])
    assert s.status is CLOSED and s.consecutive_failures == 4 and s.last_failure_at == T0 + 3


def test_the_fifth_consecutive_failure_opens_it() -> None:
    s = run([(T0 + i, False) for i in range(5)])
    assert s.status is OPEN and s.opened_at == T0 + 4
    assert not s.allows_traffic(T0 + 5, P)
    assert s.seconds_until_retry(T0 + 14, P) == 50.0


def test_a_success_breaks_the_failure_streak() -> None:
    s = run([(T0, False)] * 4 + [(T0 + 1, True)] + [(T0 + 2, False)] * 4)
    assert s.status is CLOSED and s.consecutive_failures == 4


def test_half_the_requests_failing_in_the_window_opens_it() -> None:
    # 10 requests alternating: never 5 in a row, but 5/10 = 50% failures
    s = run([(T0 + i, i % 2 == 0) for i in range(9)])
    assert s.status is CLOSED and s.window_counts(T0 + 8, P) == (9, 4)
    s = on_outcome(s, False, T0 + 9, P)
    assert s.status is OPEN and s.window_counts(T0 + 9, P) == (10, 5)


def test_the_rate_rule_needs_at_least_ten_requests() -> None:
    s = run([(T0, True), (T0, False), (T0, False), (T0, True), (T0, False), (T0, False)])
    assert s.status is CLOSED and s.failure_rate(T0, P) == 4 / 6


def test_under_half_failing_keeps_it_closed() -> None:
    s = run([(T0 + i, i % 3 != 0) for i in range(12)])
    assert s.status is CLOSED and s.window_counts(T0 + 11, P) == (12, 4)


def test_failures_older_than_the_window_do_not_count() -> None:
    s = run([(T0 + i, False) for i in range(4)] + [(T0 + 5, True)] + [(T0 + 6 + i, False) for i in range(4)])
    assert s.window_counts(T0 + 9, P) == (9, 8)
    # 60 s later the first bucket (T0..T0+9) has left the window: nothing counts any more
    assert s.window_counts(T0 + 60, P) == (0, 0)
    s = run([(T0 + 60, True)] * 5 + [(T0 + 61, False), (T0 + 61, True)] * 2, s)
    assert s.status is CLOSED and s.window_counts(T0 + 61, P) == (9, 2)


def test_the_window_keeps_six_ten_second_buckets() -> None:
    s = run([(T0 + 10 * i, True) for i in range(8)])
    assert [b.index for b in s.window] == [int(T0 / 10) + i for i in range(2, 8)]
    assert s.window_counts(T0 + 79, P) == (6, 0)


def test_an_open_breaker_reads_half_open_after_its_cool_down() -> None:
    s = opened()
    assert effective(s, T0 + 59.9, P).status is OPEN
    half = effective(s, T0 + 60, P)
    assert half.status is HALF and half.consecutive_successes == 0
    assert s.allows_traffic(T0 + 60, P) and half.seconds_until_retry(T0 + 60, P) == 0.0


def test_outcomes_while_open_do_not_extend_the_cool_down() -> None:
    s = run([(T0 + 10, False), (T0 + 20, True), (T0 + 30, True)], opened())
    assert s.status is OPEN and s.opened_at == T0
    assert effective(s, T0 + 60, P).status is HALF


def test_two_successes_in_half_open_close_it() -> None:
    s = on_outcome(opened(), True, T0 + 60, P)
    assert s.status is HALF and s.consecutive_successes == 1
    s = on_outcome(s, True, T0 + 61, P)
    assert s.status is CLOSED and s.opened_at is None and s.consecutive_failures == 0
    assert s.window == () and s.total_failures == 5 and s.total_successes == 2


def test_a_failure_in_half_open_reopens_it_from_now() -> None:
    s = run([(T0 + 60, True), (T0 + 70, False)], opened())
    assert s.status is OPEN and s.opened_at == T0 + 70
    assert not s.allows_traffic(T0 + 129, P) and s.allows_traffic(T0 + 130, P)


def test_successes_before_the_cool_down_do_not_count_towards_closing() -> None:
    s = run([(T0 + 30, True), (T0 + 60, True)], opened())
    assert s.status is HALF and s.consecutive_successes == 1


def test_the_rate_rule_does_not_apply_in_half_open_only_a_failure_does() -> None:
    s = on_outcome(opened(), True, T0 + 60, P)
    assert on_outcome(s, False, T0 + 61, P).status is OPEN


def test_reset_closes_and_zeroes() -> None:
    assert reset("p") == BreakerState(provider="p")


def test_the_policy_is_configurable() -> None:
    strict = BreakerPolicy(failure_threshold=2, open_for_s=5, half_open_successes=1)
    s = run([(T0, False), (T0, False)], policy=strict)
    assert s.status is OPEN
    assert on_outcome(s, True, T0 + 5, strict).status is CLOSED


outcomes = st.lists(st.tuples(st.floats(0, 40), st.booleans()), max_size=60)


@settings(max_examples=200, deadline=None)
@given(outcomes)
def test_invariants_hold_for_any_sequence(steps: list[tuple[float, bool]]) -> None:
    s, now = BreakerState(provider="p"), T0
    for dt, ok in steps:
        now += dt
        before = effective(s, now, P)
        s = on_outcome(s, ok, now, P)
        requests, failures = s.window_counts(now, P)
        assert 0 <= failures <= requests <= len(steps)
        assert s.total_failures + s.total_successes <= len(steps)
        assert (s.opened_at is not None) == (s.status is not CLOSED)
        if s.status is OPEN and before.status is not OPEN:
            assert not ok  # only a failure opens a breaker
            assert before.status is HALF or s.consecutive_failures >= P.failure_threshold \
                or (requests >= P.min_requests and failures / requests >= P.failure_rate)
        if before.status is OPEN:
            assert s.status is OPEN and s.opened_at == before.opened_at
        if before.status is HALF and not ok:
            assert s.status is OPEN and s.opened_at == now
        if before.status is CLOSED and ok:
            assert s.status is CLOSED
