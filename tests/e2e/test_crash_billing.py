"""Crash-safe billing against real `gatewayz serve` processes on PostgreSQL and Redis: a gateway
killed with SIGKILL mid-load loses no charge (every answer it gave is charged once, after a restart
drains the journal), and a second process takes over the journal entries a killed one had read and
not yet written."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres.tables import audit_log, chat_completion_requests, credit_transactions
from adapters.redis.holds import JournalKeys
from adapters.redis.settlements import GROUP
from domain.settlements import HOLD_EXPIRED
from tests.e2e.stack import ROOT, Process, Stack, cli, spawn, wait_for_models, wait_healthy
from tests.integration.inference_kit import MESSAGES
from tests.services import free_port, unique_name

pytestmark = pytest.mark.crash
CLIENTS = 16
CLAIM_IDLE_S = 2.0
HOLD_TTL_S = 6.0


@pytest.fixture(autouse=True)
def clean(stack: Stack) -> None:
    httpx.post(stack.fake + "/_fake/reset", timeout=5).raise_for_status()


def crash_env(stack: Stack) -> dict[str, str]:
    """A Redis namespace of its own (journal, holds), the suite's database, short timeouts."""
    return {**stack.env, "REDIS_PREFIX": unique_name("gwcrash") + ":",
            "SETTLEMENT_CLAIM_IDLE_SECONDS": str(CLAIM_IDLE_S), "HOLD_TTL_SECONDS": str(HOLD_TTL_S),
            "SETTLEMENT_SWEEP_SECONDS": "0.5", **{f"RATE_LIMIT_{scope}": "0" for scope in (
                "REQUESTS_PER_MINUTE", "REQUESTS_PER_HOUR", "REQUESTS_PER_DAY", "TOKENS_PER_MINUTE",
                "TOKENS_PER_HOUR", "TOKENS_PER_DAY")}}


def serve(name: str, env: dict[str, str], stack: Stack, port: int) -> Process:
    gateway = spawn(name, ["-m", "gatewayz", "serve", "--host", "127.0.0.1", "--port", str(port)], env, stack.logs)
    gateway.url = f"http://127.0.0.1:{port}"
    wait_healthy(gateway)
    wait_for_models(gateway, 6)
    return gateway


def kill(gateway: Process) -> None:
    """SIGKILL to the whole process group: the server and its workers die at once, nothing flushes."""
    os.killpg(gateway.popen.pid, signal.SIGKILL)
    gateway.popen.wait(10)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def usage_rows(database_url: str, request_ids: list[str]) -> Counter[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(credit_transactions.c.request_id).where(
                credit_transactions.c.request_id.in_(request_ids),
                credit_transactions.c.transaction_type == "api_usage"))
            return Counter(rows.scalars())
    finally:
        await engine.dispose()


async def user_facts(database_url: str, user_id: int) -> dict[str, Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            usage = (await conn.execute(select(func.count()).where(
                credit_transactions.c.user_id == user_id,
                credit_transactions.c.transaction_type == "api_usage"))).scalar_one()
            logged = (await conn.execute(select(func.count()).where(
                chat_completion_requests.c.user_id == user_id))).scalar_one()
            expired = (await conn.execute(select(audit_log.c.details).where(
                audit_log.c.user_id == user_id, audit_log.c.event_type == HOLD_EXPIRED))).scalars().all()
            return {"usage_rows": usage, "request_rows": logged, "hold_expired": list(expired)}
    finally:
        await engine.dispose()


async def journal_state(redis_url: str, prefix: str) -> tuple[int, int]:
    """(entries in the journal, open holds in the due index)."""
    client = aioredis.Redis.from_url(redis_url)
    keys = JournalKeys(prefix)
    try:
        return int(await client.xlen(keys.stream)), int(await client.zcard(keys.due))
    finally:
        await client.aclose()


def settle_window(gateway: Process) -> str:
    """The measured crash window (upstream answer -> settlement durable) from the process's histogram."""
    count, total, buckets = window_counts(gateway.url)
    if not count:
        return "no settlements observed"
    p50 = min(b for b, n in buckets.items() if n >= count * 0.5)
    p99 = min(b for b, n in buckets.items() if n >= count * 0.99)
    return f"n={int(count)} mean={total / count * 1000:.3f} ms p50<={p50 * 1000:g} ms p99<={p99 * 1000:g} ms"


def verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatewayz", "ledger", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


class Load:
    """16 clients posting whole (non-streamed) answers to whatever URL is current, until stopped."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.answered: list[str] = []
        self.statuses: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def wait_for(self, answers: int, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.answered) < answers:
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(self.answered)} answers in {timeout_s}s: {self.statuses}")
            time.sleep(0.01)

    def _client(self) -> None:
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {self.key}"}) as client:
            while not self._stop.is_set():
                try:
                    r = client.post(self.url + "/v1/chat/completions",
                                    json={"model": "acme/chat", "messages": MESSAGES, "max_tokens": 100})
                except httpx.TransportError:
                    with self._lock:
                        self.statuses["transport_error"] += 1
                    time.sleep(0.02)
                    continue
                with self._lock:
                    self.statuses[str(r.status_code)] += 1
                    if r.status_code == 200:
                        self.answered.append(r.headers["X-Gatewayz-Request-Id"])


def test_a_gateway_killed_mid_load_loses_no_charge(stack: Stack) -> None:
    env = crash_env(stack)
    database_url, redis_url = env["DATABASE_URL"], env["REDIS_URL"]
    user = cli(env, "users", "create", "--email", unique_name("crash") + "@example.com", "--credits", "100")
    stack.script("chat-a", delay_s=0.01)
    port = free_port()
    first = serve("gateway-crash-1", env, stack, port)
    stack.processes.append(first)
    with Load(first.url, user["api_key"]) as load:
        load.wait_for(250)
        kill(first)
        before_kill = len(load.answered)
        second = serve("gateway-crash-2", env, stack, port)  # the same address: the clients carry on
        stack.processes.append(second)
        load.wait_for(before_kill + 150)
    answered = list(load.answered)
    # Recovery: the restarted process drains the journal, claims what the dead one had read, and
    # journals the dead one's lapsed holds as hold_expired.
    deadline = time.monotonic() + CLAIM_IDLE_S + HOLD_TTL_S + 15
    while run(journal_state(redis_url, env["REDIS_PREFIX"])) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run(journal_state(redis_url, env["REDIS_PREFIX"])) == (0, 0)
    window = settle_window(second)
    second.stop()
    assert second.popen.returncode == 0, second.output()
    rows = run(usage_rows(database_url, answered))
    facts = run(user_facts(database_url, user["user_id"]))
    uncharged = [rid for rid in answered if rows[rid] == 0]
    twice = [rid for rid in answered if rows[rid] > 1]
    expired_usd = sum((Decimal(d["held"]) for d in facts["hold_expired"]), Decimal(0))
    print(f"crash run: answered={len(answered)} (before kill {before_kill}) charged_once="
          f"{sum(1 for rid in answered if rows[rid] == 1)} uncharged={len(uncharged)} charged_twice={len(twice)} "
          f"usage_rows={facts['usage_rows']} (charged without an answer received: "
          f"{facts['usage_rows'] - len(answered)}) request_rows={facts['request_rows']} "
          f"hold_expired={len(facts['hold_expired'])} (${expired_usd}) client_outcomes={dict(load.statuses)} "
          f"settle window: {window}")
    assert len(set(answered)) == len(answered)
    assert uncharged == [] and twice == []
    assert facts["request_rows"] >= facts["usage_rows"] >= len(answered)
    assert len(facts["hold_expired"]) <= CLIENTS  # at most the requests in flight when the process died
    checked = verify(env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def lock_user(database_url: str, user_id: int) -> tuple[Any, Any]:
    engine = create_async_engine(database_url)
    conn = await engine.connect()
    await conn.begin()
    await conn.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})
    return engine, conn


async def pending_by_consumer(redis_url: str, prefix: str) -> dict[str, int]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        summary = await client.xpending(JournalKeys(prefix).stream, GROUP)
        return {c["name"].decode(): int(c["pending"]) for c in summary["consumers"]}
    finally:
        await client.aclose()


def test_a_second_process_takes_over_the_entries_a_killed_one_had_read(stack: Stack) -> None:
    env = crash_env(stack)
    database_url, redis_url, prefix = env["DATABASE_URL"], env["REDIS_URL"], env["REDIS_PREFIX"]
    user = cli(env, "users", "create", "--email", unique_name("takeover") + "@example.com", "--credits", "1")
    first = serve("gateway-takeover-a", env, stack, free_port())
    stack.processes.append(first)
    loop = asyncio.new_event_loop()
    engine, conn = loop.run_until_complete(lock_user(database_url, user["user_id"]))
    try:  # the user's row is locked: the first process's drainer reads the entries and waits on the lock
        ids = []
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {user['api_key']}"}) as client:
            for _ in range(5):
                r = client.post(first.url + "/v1/chat/completions",
                                json={"model": "acme/chat", "messages": MESSAGES, "max_tokens": 100})
                assert r.status_code == 200, r.text
                ids.append(r.headers["X-Gatewayz-Request-Id"])
        deadline = time.monotonic() + 10
        while not run(pending_by_consumer(redis_url, prefix)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # its drainer took what was there and waits on the lock (later ones stay unread)
        held_by = run(pending_by_consumer(redis_url, prefix))
        assert len(held_by) == 1 and sum(held_by.values()) >= 1, held_by
        assert run(journal_state(redis_url, prefix))[0] == 5  # nothing acknowledged
        kill(first)
    finally:
        loop.run_until_complete(conn.rollback())
        loop.run_until_complete(conn.close())
        loop.run_until_complete(engine.dispose())
        loop.close()
    assert run(usage_rows(database_url, ids)) == Counter()  # nothing was written by the killed process
    second = serve("gateway-takeover-b", env, stack, free_port())
    stack.processes.append(second)
    deadline = time.monotonic() + CLAIM_IDLE_S + 15
    while sum(run(usage_rows(database_url, ids)).values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    second.stop()
    assert run(usage_rows(database_url, ids)) == Counter({rid: 1 for rid in ids})
    print(f"takeover: the killed process had read {sum(held_by.values())} of 5 entries; all 5 written once")
    dead = next(iter(held_by))
    assert run(pending_by_consumer(redis_url, prefix)).get(dead, 0) == 0
    assert run(journal_state(redis_url, prefix))[0] == 0


def window_counts(gateway_url: str) -> tuple[float, float, dict[float, float]]:
    count = total = 0.0
    buckets: dict[float, float] = {}
    for line in httpx.get(gateway_url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("settlement_window_seconds_bucket"):
            buckets[float(line.split('le="')[1].split('"')[0])] = float(line.split()[-1])
        elif line.startswith("settlement_window_seconds_count"):
            count = float(line.split()[-1])
        elif line.startswith("settlement_window_seconds_sum"):
            total = float(line.split()[-1])
    return count, total, buckets


def test_the_crash_window_is_about_one_redis_round_trip_when_unloaded(stack: Stack) -> None:
    """Upstream answer -> settlement durable, measured by the gateway itself, one client at a time."""
    key = cli(stack.env, "users", "create", "--email", unique_name("window") + "@example.com",
              "--credits", "1")["api_key"]
    before = window_counts(stack.gateway)
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(200):
            r = client.post(stack.gateway + "/v1/chat/completions",
                            json={"model": "acme/chat", "messages": MESSAGES, "max_tokens": 100})
            assert r.status_code == 200, r.text
    after = window_counts(stack.gateway)
    n, total = after[0] - before[0], after[1] - before[1]
    within = {b: after[2][b] - before[2].get(b, 0) for b in after[2]}
    p50 = min(b for b, c in within.items() if c >= n * 0.5)
    p99 = min(b for b, c in within.items() if c >= n * 0.99)
    print(f"settle window, one client: n={int(n)} mean={total / n * 1000:.3f} ms p50<={p50 * 1000:g} ms "
          f"p99<={p99 * 1000:g} ms")
    assert n == 200
    assert p50 <= 0.005  # one Redis script call; a few ms at most on a busy machine
