"""CheckAuthAttempts: the auth routes' per-IP limits (LOGIN shared by /auth and /auth/login, REGISTER,
PASSWORD_RESET shared by both reset routes), counted in the shared attempt limiter."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import AttemptsExceeded
from ports.attempts import AttemptLimiter
from ports.clock import Clock

LOGIN = "login"
REGISTER = "register"
PASSWORD_RESET = "password_reset"


class CheckAuthAttempts:
    def __init__(self, attempts: AttemptLimiter, clock: Clock, limits: Mapping[str, tuple[int, float]]) -> None:
        self._attempts = attempts
        self._clock = clock
        self._limits = dict(limits)

    async def __call__(self, kind: str, client_ip: str | None) -> None:
        limit, window = self._limits[kind]
        wait = await self._attempts.hit(f"ip:{kind}:{client_ip or 'unknown'}", limit=limit, window_s=window,
                                        now=self._clock.now().timestamp())
        if wait is not None:
            raise AttemptsExceeded(int(wait) + (0 if float(wait).is_integer() else 1))
