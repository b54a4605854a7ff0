"""What can go wrong calling a provider, and which failures move on to the next offer."""

from __future__ import annotations

# Failover on these upstream statuses; 400/413/422 are the client's fault and go back to it.
FAILOVER_STATUSES = frozenset({401, 402, 403, 404, 408, 429})


class UpstreamError(Exception):
    """A provider call failed. `status` is the upstream HTTP status (None: no HTTP answer)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: str | None = None,
                 provider: str = "", timeout: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.provider = provider
        self.timeout = timeout

    @property
    def fails_over(self) -> bool:
        """Connection errors, timeouts, 401/402/403/404/408/429 and 5xx try the next offer."""
        if self.status is None or self.timeout:
            return True
        return self.status in FAILOVER_STATUSES or self.status >= 500

    @property
    def counts_against_provider(self) -> bool:
        """Breaker outcome: the provider misbehaved (client errors do not count)."""
        return self.fails_over
