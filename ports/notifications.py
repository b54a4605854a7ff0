"""Outgoing notifications (email)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from domain.notifications import Email

OnSent = Callable[[Email], Awaitable[None]]


class Notifier(Protocol):
    async def send(self, message: Email, *, on_sent: OnSent | None = None) -> None:
        """Hand a message over for delivery off the request path; `on_sent` runs once it went out.
        Never raises for a delivery problem (those are retried, then counted and logged)."""
        ...


class Transport(Protocol):
    """One delivery attempt (SMTP, the log); raises on failure so the queue can retry."""

    async def deliver(self, message: Email) -> None: ...
