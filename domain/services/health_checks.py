"""RunHealthChecks: the readiness checks (database, Redis) and the upstream check (the share of usable
providers whose breaker is open), as the verdicts incident detection acts on."""

from __future__ import annotations

import asyncio
import json

from domain.breaker import BreakerPolicy, BreakerStatus, effective
from domain.errors import GatewayError
from domain.incidents import UPSTREAM_ENDPOINT, CheckName, CheckOutcome, Severity
from domain.services.check_readiness import CheckReadiness
from ports.breakers import BreakerStore
from ports.catalog import CatalogSource
from ports.clock import Clock
from ports.upstream import Upstream

_READINESS_CHECKS = {"database": CheckName.DATABASE, "redis": CheckName.REDIS}


class UpstreamHealth:
    """(open, usable): active catalog providers with credentials, and those whose breaker is open."""

    def __init__(self, catalog: CatalogSource, upstream: Upstream, breakers: BreakerStore,
                 clock: Clock, policy: BreakerPolicy) -> None:
        self._catalog = catalog
        self._upstream = upstream
        self._breakers = breakers
        self._clock = clock
        self._policy = policy

    async def __call__(self) -> tuple[int, int]:
        slugs = [p.slug for p in self._catalog.current().providers.values() if p.is_active and self._upstream.usable(p)]
        if not slugs:
            return 0, 0
        states = await self._breakers.states(slugs)
        now = self._clock.now().timestamp()
        return sum(1 for s in states.values() if effective(s, now, self._policy).status is BreakerStatus.OPEN), \
            len(slugs)


class RunHealthChecks:
    def __init__(self, readiness: CheckReadiness, upstream: UpstreamHealth, *, rate_limit_fail_open: bool,
                 timeout_s: float = 2.0) -> None:
        self._readiness = readiness
        self._upstream = upstream
        self._fail_open = rate_limit_fail_open
        self._timeout = timeout_s

    async def __call__(self) -> list[CheckOutcome]:
        checks, upstream = await asyncio.gather(self._readiness(), self._providers())
        failed = sorted(name for name, result in checks.items() if result != "ok")
        body = json.dumps({"status": "unavailable", "detail": f"Not ready: {', '.join(failed)}", "checks": checks}
                          if failed else {"status": "ready", "checks": checks})
        outcomes = []
        for name, result in checks.items():
            check = _READINESS_CHECKS.get(name)
            if check is None:
                continue
            severity = Severity.CRITICAL if check is CheckName.DATABASE else (
                Severity.MEDIUM if self._fail_open else Severity.HIGH)
            ok = result == "ok"
            outcomes.append(CheckOutcome(check=check, ok=ok, severity=severity,
                                         http_status_code=None if ok else 503,
                                         error_message=None if ok else f"{name}: {result}",
                                         response_body=None if ok else body))
        outcomes.append(upstream)
        return outcomes

    async def _providers(self) -> CheckOutcome:
        try:
            open_, usable = await asyncio.wait_for(self._upstream(), self._timeout)
        except (TimeoutError, GatewayError):
            return CheckOutcome(check=CheckName.PROVIDERS, ok=None, health_endpoint=UPSTREAM_ENDPOINT)
        failing = usable > 0 and open_ * 2 >= usable
        message = f"{open_} of {usable} usable providers have an open circuit breaker"
        return CheckOutcome(check=CheckName.PROVIDERS, ok=not failing, health_endpoint=UPSTREAM_ENDPOINT,
                            severity=Severity.CRITICAL if open_ == usable else Severity.HIGH,
                            error_message=message if failing else None,
                            response_body=json.dumps({"open": open_, "usable": usable}) if failing else None)
