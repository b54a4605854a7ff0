"""Window arithmetic and admission rules, with a clock the test moves (no Redis)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.limits import MemoryLimitConfigRepository, MemoryRateLimiter
from domain.errors import RateLimited
from domain.inference import Caller, InferenceRequest, Operation
from domain.limits import (
    ANONYMOUS_LIMITS,
    KeyLimits,
    LimitConfig,
    Scope,
    duration,
    headers_for,
    ip_subject,
    rate_limit_headers,
)
from domain.services.admit_request import AdmitRequest
from gatewayz.settings import Settings, SettingsError

ONLY = dict.fromkeys(LimitConfig.__struct_fields__)  # every scope off


def only(**limits: int) -> LimitConfig:
    return LimitConfig(**{**ONLY, **limits})


def now_of(clock: FixedClock) -> float:
    return clock.now().timestamp()


async def admitted(limiter: MemoryRateLimiter, config: LimitConfig, clock: FixedClock, n: int,
                   tokens: int = 0) -> int:
    return sum([(await limiter.admit("s", config, tokens, now_of(clock))).allowed for _ in range(n)])


async def test_a_full_bucket_admits_the_limit_then_refills_one_per_interval() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(requests_per_minute=30)
    assert await admitted(limiter, config, clock, 40) == 30
    refused = await limiter.admit("s", config, 0, now_of(clock))
    assert (refused.allowed, refused.scope, refused.limit) == (False, Scope.REQUESTS_PER_MINUTE, 30)
    assert refused.retry_after_s == pytest.approx(2.0)  # 60 s / 30
    clock.advance(1.9)
    assert await admitted(limiter, config, clock, 1) == 0
    clock.advance(0.1)
    assert await admitted(limiter, config, clock, 2) == 1
    clock.advance(60)
    assert await admitted(limiter, config, clock, 40) == 30


async def test_no_window_edge_lets_twice_the_limit_through() -> None:
    """A fixed calendar minute would admit 30 at :59 and 30 more at :00; a sliding window does not."""
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(requests_per_minute=30)
    clock.advance(59)
    first = await admitted(limiter, config, clock, 30)
    clock.advance(1)
    assert (first, await admitted(limiter, config, clock, 30)) == (30, 0)  # a calendar window: 30 more
    steady = 0
    for _ in range(60):  # then one per 2 s however hard it is pushed: 30 per minute
        clock.advance(1)
        steady += await admitted(limiter, config, clock, 5)
    assert steady == 30


async def test_a_refusal_consumes_nothing_in_any_scope() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(requests_per_minute=100, requests_per_day=3)
    assert await admitted(limiter, config, clock, 10) == 3
    decision = await limiter.admit("s", config, 0, now_of(clock))
    assert decision.scope is Scope.REQUESTS_PER_DAY
    rpm = decision.status(Scope.REQUESTS_PER_MINUTE)
    assert rpm is not None and rpm.remaining == 97  # the refused seven took nothing from the minute


async def test_token_scopes_check_the_estimate_and_settle_the_actual() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(tokens_per_minute=1000)
    first = await limiter.admit("s", config, 800, now_of(clock))
    assert first.allowed and first.lease_id
    assert not (await limiter.admit("s", config, 300, now_of(clock))).allowed
    assert await limiter.settle("s", config, first.lease_id, 800, 100, now_of(clock))  # used 100 of 800
    second = await limiter.admit("s", config, 300, now_of(clock))
    assert second.allowed
    status = second.status(Scope.TOKENS_PER_MINUTE)
    assert status is not None and status.remaining == 600
    assert not await limiter.settle("s", config, first.lease_id, 800, 5000, now_of(clock))  # idempotent


async def test_usage_beyond_the_estimate_is_a_debt_later_requests_wait_out() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(tokens_per_minute=1000)
    d = await limiter.admit("s", config, 100, now_of(clock))
    assert d.lease_id is not None
    await limiter.settle("s", config, d.lease_id, 100, 2000, now_of(clock))  # the upstream ignored max_tokens
    refused = await limiter.admit("s", config, 1, now_of(clock))
    assert not refused.allowed and refused.retry_after_s == pytest.approx(60.06, abs=0.01)


async def test_a_request_larger_than_the_whole_budget_passes_when_the_bucket_is_full() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    config = only(tokens_per_minute=1000)
    assert (await limiter.admit("s", config, 5000, now_of(clock))).allowed
    assert not (await limiter.admit("s", config, 1, now_of(clock))).allowed


async def test_concurrency_leases_limit_in_flight_requests_and_expire_with_a_dead_process() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter(lease_ttl_s=30)
    config = only(concurrent_requests=2)
    a = await limiter.admit("s", config, 0, now_of(clock))
    await limiter.admit("s", config, 0, now_of(clock))
    refused = await limiter.admit("s", config, 0, now_of(clock))
    assert (refused.scope, refused.retry_after_s) == (Scope.CONCURRENT_REQUESTS, 1.0)
    assert a.lease_id and await limiter.settle("s", config, a.lease_id, 0, None, now_of(clock))
    assert await limiter.concurrency("s", now_of(clock)) == 1
    assert (await limiter.admit("s", config, 0, now_of(clock))).allowed
    clock.advance(30)  # their process died: nobody settles
    assert await limiter.concurrency("s", now_of(clock)) == 0
    assert (await limiter.admit("s", config, 0, now_of(clock))).allowed


def test_overrides_replace_only_the_columns_they_set() -> None:
    merged = LimitConfig().with_overrides(KeyLimits(requests_per_minute=5, concurrent_requests=1))
    assert (merged.requests_per_minute, merged.requests_per_hour, merged.concurrent_requests) == (5, 1000, 1)
    assert LimitConfig().with_overrides(None) == LimitConfig() == LimitConfig().with_overrides(KeyLimits())


def test_hourly_values_alone_derive_the_minute_and_day_scopes_as_the_seed_showed() -> None:
    assert KeyLimits(requests_per_hour=1_200, tokens_per_hour=60_000).derived() == KeyLimits(
        requests_per_minute=20, requests_per_hour=1_200, requests_per_day=28_800,
        tokens_per_minute=1_000, tokens_per_hour=60_000, tokens_per_day=1_440_000)


def test_given_scopes_win_over_derived_ones_and_each_kind_derives_from_its_own_hour() -> None:
    given = KeyLimits(requests_per_minute=7, requests_per_hour=1_200, tokens_per_day=5, concurrent_requests=3)
    assert given.derived() == KeyLimits(requests_per_minute=7, requests_per_hour=1_200, requests_per_day=28_800,
                                        tokens_per_day=5, concurrent_requests=3)
    no_hour = KeyLimits(requests_per_minute=5, tokens_per_day=123_456)
    assert no_hour.derived() == no_hour  # nothing to derive from: the rest keeps the gateway default


def test_a_derived_minute_limit_is_never_zero() -> None:
    assert KeyLimits(tokens_per_hour=30).derived() == KeyLimits(tokens_per_minute=1, tokens_per_hour=30,
                                                                  tokens_per_day=720)


def test_defaults_are_the_documented_ones_and_env_overridable() -> None:
    d = Settings.from_env({}).admission
    assert (d.limits.requests_per_minute, d.limits.requests_per_hour, d.limits.requests_per_day) == (250, 1000, 10_000)
    assert (d.limits.tokens_per_minute, d.limits.tokens_per_day, d.limits.concurrent_requests) == (
        1_000_000, 10_000_000, 50)
    assert (d.anonymous_limits.requests_per_minute, d.anonymous_limits.requests_per_day) == (10, 3)
    assert (d.concurrency_limit, d.concurrency_queue_size, d.concurrency_queue_timeout_s) == (200, 500, 10.0)
    assert not d.fail_closed
    e = Settings.from_env({"RATE_LIMIT_REQUESTS_PER_MINUTE": "30", "RATE_LIMIT_TOKENS_PER_DAY": "0",
                           "ANONYMOUS_RATE_LIMIT_PER_DAY": "7", "RATE_LIMIT_FAIL_CLOSED": "true",
                           "CONCURRENCY_LIMIT": "5"}).admission
    assert (e.limits.requests_per_minute, e.limits.tokens_per_day, e.anonymous_limits.requests_per_day) == (30, None, 7)
    assert e.fail_closed and e.concurrency_limit == 5
    with pytest.raises(SettingsError, match="RATE_LIMIT_REQUESTS_PER_HOUR"):
        Settings.from_env({"RATE_LIMIT_REQUESTS_PER_HOUR": "lots"})


def test_headers_show_the_minute_scopes_and_the_tightest_request_scope() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    decision = asyncio.run(limiter.admit("s", LimitConfig(requests_per_day=2), 100, now_of(clock)))
    h = headers_for(decision)
    assert h["X-RateLimit-Limit-Requests"] == "250" and h["X-RateLimit-Remaining-Requests"] == "249"
    assert h["X-RateLimit-Reset-Requests"] == "240ms"
    assert h["X-RateLimit-Limit-Tokens"] == "1000000" and h["X-RateLimit-Remaining-Tokens"] == "999900"
    assert (h["RateLimit-Limit"], h["RateLimit-Remaining"], h["RateLimit-Reset"]) == ("2", "1", "43200")
    assert [duration(s) for s in (0.0001, 1.5, 60, 3725)] == ["1ms", "1.5s", "1m0s", "1h2m5s"]


def test_client_addresses_are_hashed_with_the_salt() -> None:
    a, b = ip_subject(b"salt-1", "203.0.113.9"), ip_subject(b"salt-2", "203.0.113.9")
    assert a != b and "203.0.113" not in a and a == ip_subject(b"salt-1", "203.0.113.9")


# ---- the service ----

def chat(max_tokens: int | None = 100, prompt: int = 20) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="m", body={}, max_tokens=max_tokens,
                            prompt_tokens_estimate=prompt)


def service(defaults: LimitConfig | None = None) -> tuple[AdmitRequest, MemoryRateLimiter, MemoryLimitConfigRepository,
                                                         FixedClock]:
    clock, limiter, configs = FixedClock(), MemoryRateLimiter(), MemoryLimitConfigRepository()
    return AdmitRequest(limiter, configs, clock, defaults=defaults, ip_salt=b"salt"), limiter, configs, clock


async def test_a_keyed_refusal_carries_the_seed_message_code_scope_and_headers() -> None:
    admit, _, _, _ = service(only(requests_per_minute=2, tokens_per_minute=10_000))
    caller = Caller(user_id=1, api_key_id=9)
    for _ in range(2):
        admission = await admit(caller, chat())
        assert admission.tokens_estimate == 120
        assert rate_limit_headers(admission)["X-RateLimit-Limit-Requests"] == "2"
    with pytest.raises(RateLimited) as info:
        await admit(caller, chat())
    exc = info.value
    assert (exc.message, exc.code, exc.retry_after) == ("Rate limit exceeded. Limit: 2 RPM", "rate_limit_exceeded", 30)
    assert exc.details["scope"] == "requests_per_minute" and exc.details["limit"] == 2
    assert exc.details["headers"]["X-RateLimit-Remaining-Requests"] == "0"


async def test_per_key_overrides_apply_and_other_keys_keep_the_defaults() -> None:
    admit, _, configs, clock = service(only(requests_per_minute=100))
    await configs.put(9, KeyLimits(requests_per_minute=1), now=clock.now())
    await admit(Caller(user_id=1, api_key_id=9), chat())
    with pytest.raises(RateLimited, match="Limit: 1 RPM"):
        await admit(Caller(user_id=1, api_key_id=9), chat())
    await admit(Caller(user_id=1, api_key_id=10), chat())


async def test_anonymous_callers_are_limited_per_address_with_their_own_codes() -> None:
    admit, _, _, clock = service()
    assert ANONYMOUS_LIMITS.requests_per_day == 3
    ip = Caller(client_ip="198.51.100.7")
    for _ in range(3):
        await admit(ip, chat())
    with pytest.raises(RateLimited) as info:
        await admit(ip, chat())
    assert (info.value.code, info.value.message) == ("anonymous_daily_limit", "Rate limit exceeded")
    await admit(Caller(client_ip="198.51.100.8"), chat())  # another address has its own budget
    clock.advance(86_400)
    for _ in range(3):
        await admit(ip, chat())


async def test_the_anonymous_minute_limit_says_rate_limit_exceeded() -> None:
    clock, limiter = FixedClock(), MemoryRateLimiter()
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, ip_salt=b"s",
                         anonymous=only(requests_per_minute=1, requests_per_day=100))
    await admit(Caller(client_ip="192.0.2.1"), chat())
    with pytest.raises(RateLimited) as info:
        await admit(Caller(client_ip="192.0.2.1"), chat())
    assert info.value.code == "rate_limit_exceeded"


async def test_settle_returns_the_lease_corrects_tokens_and_is_idempotent() -> None:
    admit, limiter, _, clock = service(only(tokens_per_minute=1000, concurrent_requests=1))
    caller = Caller(user_id=1, api_key_id=4)
    admission = await admit(caller, chat(max_tokens=880))
    with pytest.raises(RateLimited, match="1 concurrent requests"):
        await admit(caller, chat(max_tokens=1))
    await admit.settle(admission, actual_tokens=150)
    await admit.settle(admission, actual_tokens=150)
    assert await limiter.concurrency(admission.subject, clock.now().timestamp()) == 0
    again = await admit(caller, chat(max_tokens=780))
    assert again.decision.status(Scope.TOKENS_PER_MINUTE).remaining == 50  # type: ignore[union-attr]
