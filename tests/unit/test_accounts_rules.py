"""Pure account rules: identity from Privy's linked accounts, email policy, key restrictions, settings."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from adapters.email.outbox import QueuedNotifier
from domain.accounts import username_base
from domain.api_keys import normalize_allowlist, normalize_referrers, referrer_allowed
from domain.email_policy import EmailPolicy
from domain.identity import identity_of, linked_accounts
from domain.notifications import Email, welcome
from domain.services.authenticate import ip_allowed
from gatewayz.settings import AccountSettings, SettingsError


def test_identity_follows_the_seeds_priority() -> None:
    accounts = linked_accounts(json.dumps([
        {"type": "phone", "phoneNumber": "+15550100"},
        {"type": "github_oauth", "name": "octo"},
        {"type": "google_oauth", "email": "G@Example.com", "name": "Grace", "verified_at": 1700000000},
    ]))
    who = identity_of(accounts)
    assert (who.email, who.email_verified, who.display_name, who.phone_number, who.auth_method) == (
        "g@example.com", True, "octo", "+15550100", "google")
    assert identity_of(linked_accounts('[{"type": "github", "name": "octo"}]')).auth_method == "github"
    assert identity_of(linked_accounts('[{"type": "phone", "phone_number": "+1"}]')).auth_method == "phone"
    unverified = identity_of(linked_accounts('[{"type": "email", "address": "a@b.co"}]'))
    assert (unverified.email, unverified.email_verified, unverified.auth_method) == ("a@b.co", False, "email")
    assert linked_accounts("not json") == () and linked_accounts('{"type": "email"}') == ()
    assert linked_accounts('[1, {"no": "type"}, {"type": "email", "verified_at": true}]')[0].verified_at is None


def test_usernames_derived_from_logins() -> None:
    assert username_base("Ada.Lovelace-1") == "adalovelace1"
    assert username_base("ab") == "abuser" and len(username_base("x" * 80)) == 30


def test_email_policy_matches_domains_and_their_subdomains() -> None:
    policy = EmailPolicy(("Blocked.Example",))
    assert policy.blocked("a@blocked.example") and policy.blocked("a@mx.blocked.example")
    assert not policy.blocked("a@notblocked.example")
    assert policy.disposable("a@yopmail.com") and policy.disposable("a@eu.mailinator.com")
    assert not policy.disposable("a@gmail.com")


def test_key_restrictions() -> None:
    assert normalize_allowlist(["10.0.0.1", "192.168.1.7/24", "::1"]) == ("10.0.0.1/32", "192.168.1.0/24", "::1/128")
    with pytest.raises(ValueError, match="nope"):
        normalize_allowlist(["nope"])
    assert ip_allowed(("10.0.0.0/8",), "10.2.3.4") and ip_allowed(("10.0.0.0/8",), "::ffff:10.2.3.4")
    assert not ip_allowed(("10.0.0.0/8",), "11.0.0.1") and not ip_allowed(("10.0.0.0/8",), None)
    assert not ip_allowed(("10.0.0.0/8",), "garbage")
    assert normalize_referrers(["App.Example.com", "*.example.org"]) == ("app.example.com", "*.example.org")
    for bad in ("http://x.com", "*.", "a b.com", "*x.com"):
        with pytest.raises(ValueError):
            normalize_referrers([bad])
    patterns = ("app.example.com", "*.example.org")
    assert referrer_allowed(patterns, "a.b.example.org") and referrer_allowed(patterns, "APP.example.com")
    assert not referrer_allowed(patterns, "example.org") and not referrer_allowed(patterns, "evilexample.org")
    assert not referrer_allowed(patterns, None)


def test_account_settings_parse_and_refuse_nonsense() -> None:
    s = AccountSettings.from_env({"AUTH_LOGIN_LIMIT": "5/60", "NEW_USER_CREDITS": "2.50",
                                  "PRIVY_VERIFICATION_KEY": "-----BEGIN-----\\nabc\\n-----END-----"})
    assert s.login_limit == (5, 60.0) and s.new_user_credits == Decimal("2.50") and s.notifier == "log"
    assert s.privy_verification_key == "-----BEGIN-----\nabc\n-----END-----"
    assert AccountSettings.from_env({"SMTP_HOST": "mail"}, embedded=False).notifier == "smtp"
    for env in ({"AUTH_LOGIN_LIMIT": "ten"}, {"AUTH_REGISTER_LIMIT": "0/60"}, {"NOTIFIER": "pigeon"},
                {"NOTIFIER": "smtp"}, {"LOGIN_KEYS_PER_USER": "0"}):
        with pytest.raises(SettingsError):
            AccountSettings.from_env(env)


class Flaky:
    """Fails the first `failures` deliveries, then records."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.delivered: list[Email] = []

    async def deliver(self, message: Email) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("smtp down")
        self.delivered.append(message)


def counted(registry: CollectorRegistry, kind: str, result: str) -> float:
    return registry.get_sample_value("gatewayz_notifications_total", {"kind": kind, "result": result}) or 0.0


async def test_the_queue_retries_three_times_then_counts_a_failure() -> None:
    registry = CollectorRegistry()
    transport = Flaky(failures=3)
    outbox = QueuedNotifier(transport, registry, backoff_s=0.001)
    sent: list[str] = []

    async def on_sent(message: Email) -> None:
        sent.append(message.to)

    await outbox.send(welcome("a@example.com", "a"), on_sent=on_sent)
    await outbox.flush()
    assert [m.to for m in transport.delivered] == ["a@example.com"] and sent == ["a@example.com"]
    assert counted(registry, "welcome", "sent") == 1
    transport.failures = 4
    await outbox.send(welcome("b@example.com", "b"), on_sent=on_sent)
    await outbox.close()
    assert sent == ["a@example.com"] and counted(registry, "welcome", "failed") == 1


async def test_a_full_queue_drops_and_counts_and_close_flushes_the_rest() -> None:
    registry = CollectorRegistry()
    gate = asyncio.Event()

    class Slow(Flaky):
        async def deliver(self, message: Email) -> None:
            await gate.wait()
            await super().deliver(message)

    transport = Slow(failures=0)
    outbox = QueuedNotifier(transport, registry, max_queued=2)
    for i in range(4):
        await outbox.send(welcome(f"{i}@example.com", "x"))
    await asyncio.sleep(0)  # the worker takes the first message and waits at the gate
    assert counted(registry, "welcome", "dropped") >= 1
    gate.set()
    await outbox.close()
    assert len(transport.delivered) + counted(registry, "welcome", "dropped") == 4
    assert counted(registry, "welcome", "sent") == len(transport.delivered) >= 2
