"""One exception per outcome the API distinguishes; adapters/http/errors.py maps them to HTTP."""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base of every expected outcome; `code` is the machine-readable reason clients switch on."""

    code: str = "gateway_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class AuthenticationRequired(GatewayError):
    code = "missing_api_key"

    def __init__(self, message: str = "API key required") -> None:
        super().__init__(message)


class InvalidApiKey(GatewayError):
    code = "invalid_api_key"

    def __init__(self, message: str = "Invalid API key") -> None:
        super().__init__(message)


class Forbidden(GatewayError):
    code = "forbidden"


class NotFound(GatewayError):
    code = "not_found"


class Conflict(GatewayError):
    code = "conflict"


class InvalidInput(GatewayError):
    """Input the domain rejects after parsing; `field` names it for the 422 body."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.field = field


class InsufficientCredits(GatewayError):
    code = "insufficient_credits"


class RateLimited(GatewayError):
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None, **details: Any) -> None:
        super().__init__(message, code=code, **details)
        self.retry_after = retry_after


class UpstreamFailed(GatewayError):
    code = "upstream_error"


class UpstreamTimeout(GatewayError):
    code = "upstream_timeout"


class ServiceUnavailable(GatewayError):
    """Our own infrastructure (database, Redis, capacity) cannot serve; `reason` says which."""

    code = "service_unavailable"

    def __init__(self, message: str, *, reason: str = "unavailable", retry_after: int | None = None,
                 code: str | None = None, **details: Any) -> None:
        super().__init__(message, code=code, **details)
        self.reason = reason
        self.retry_after = retry_after


class UpstreamRejected(GatewayError):
    """The provider refused the request as the client's fault (400/413/422): its status goes back."""

    code = "upstream_rejected"

    def __init__(self, message: str, *, status: int, **details: Any) -> None:
        super().__init__(message, status=status, **details)
        self.status = status


class AccountRefused(GatewayError):
    """A well-formed account request the rules refuse (taken email or username, blocked domain):
    400 with the seed's text in `detail`."""

    code = "account_refused"


class InvalidCredentials(GatewayError):
    """Password login failed, for whichever reason (401; the reasons are not told apart)."""

    code = "invalid_credentials"

    def __init__(self, message: str = "Invalid email or password") -> None:
        super().__init__(message)


class InvalidIdentityToken(GatewayError):
    """A Privy identity token missing or failing verification (401)."""

    code = "invalid_identity_token"

    def __init__(self, message: str = "Invalid Privy identity token") -> None:
        super().__init__(message)


class AttemptsExceeded(RateLimited):
    """An auth route's attempt limit (429 with the seed's flat body)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Rate limit exceeded", retry_after=retry_after)
