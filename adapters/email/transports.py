"""Delivery of one email: over SMTP (aiosmtplib), or into the log (the embedded default)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import structlog

from domain.notifications import Email

log = structlog.get_logger("gatewayz.notifications")


def mime(message: Email, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">") or "gatewayz.local")
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


class SmtpTransport:
    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout_s: float = 10.0) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls = starttls
        self._timeout = timeout_s

    async def deliver(self, message: Email) -> None:
        await aiosmtplib.send(
            mime(message, self._sender), hostname=self._host, port=self._port, username=self._username,
            password=self._password, start_tls=self._starttls, timeout=self._timeout)


class LogTransport:
    """Writes recipient, subject and body to the log: reset links included, so not for production."""

    async def deliver(self, message: Email) -> None:
        log.info("email", kind=message.kind, to=message.to, subject=message.subject, body=message.text)
