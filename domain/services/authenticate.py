"""Authenticate: a presented key -> the Principal it belongs to, or the documented 401; then the
key's own restrictions (scope, IP allowlist, referrers) and the trial, all on data the lookup
already loaded: no further read on the hot path."""

from __future__ import annotations

import functools
import ipaddress

from domain.accounts import SubscriptionStatus
from domain.api_keys import KeyScope, Principal, hash_key, looks_like_key, referrer_allowed
from domain.errors import AuthenticationRequired, Forbidden, InvalidApiKey
from ports.accounts import KeyDirectory
from ports.clock import Clock
from ports.key_usage import KeyUsage

ANY_SCOPE = "any"
TRIAL_EXPIRED = "Trial expired"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_INFERENCE = KeyScope.INFERENCE.value
_TRIAL = SubscriptionStatus.TRIAL.value


class Authenticate:
    def __init__(self, directory: KeyDirectory, clock: Clock, key_secret: bytes,
                 usage: KeyUsage | None = None) -> None:
        self._directory = directory
        self._clock = clock
        self._secret = key_secret
        self._usage = usage

    async def __call__(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthenticationRequired()
        if not looks_like_key(presented):
            raise InvalidApiKey()
        digest = hash_key(self._secret, presented)
        principal = await self._directory.find(digest)
        if principal is None or not principal.user.is_active:
            raise InvalidApiKey()
        key, now = principal.key, self._clock.now()
        if key.key_hash != digest and (key.previous_valid_until is None or key.previous_valid_until <= now):
            raise InvalidApiKey()  # the secret a rotation replaced, after its grace
        if not key.usable_at(now):
            raise InvalidApiKey()
        if self._usage is not None:
            self._usage.seen(key.id, now)  # a dict write: `last_used_at` is written behind
        return principal

    def admit(self, principal: Principal, *, scope: str, client_ip: str | None, origin_host: str | None) -> None:
        """403 when the key may not make this call from here."""
        key = principal.key
        if scope not in key.scopes and scope != ANY_SCOPE:
            raise Forbidden(f"API key lacks the '{scope}' scope", code="insufficient_scope")
        if key.ip_allowlist and not ip_allowed(key.ip_allowlist, client_ip):
            raise Forbidden("IP address not allowed", code="ip_not_allowed")
        if key.domain_referrers and not referrer_allowed(key.domain_referrers, origin_host):
            raise Forbidden("Domain not allowed", code="domain_not_allowed")
        user = principal.user
        if (scope == _INFERENCE and user.subscription_status == _TRIAL  # the clock only for open trials
                and user.trial_expired_at(self._clock.now())):
            raise Forbidden(TRIAL_EXPIRED, code="trial_expired")


@functools.lru_cache(maxsize=4096)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    nets = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(nets)


def ip_allowed(allowlist: tuple[str, ...], client_ip: str | None) -> bool:
    if client_ip is None:
        return False
    try:
        ip = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks(allowlist))
