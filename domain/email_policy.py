"""Which addresses may open an account: blocked domains refuse it, disposable ones make it a `bot`
(no starter credit)."""

from __future__ import annotations

from domain.accounts import email_domain

# The shipped disposable-email list: the throwaway-inbox services seen most often.
DISPOSABLE_DOMAINS: frozenset[str] = frozenset({
    "10minutemail.com", "20minutemail.com", "33mail.com", "anonaddy.me", "burnermail.io", "discard.email",
    "dispostable.com", "emailondeck.com", "fakeinbox.com", "getairmail.com", "getnada.com", "guerrillamail.biz",
    "guerrillamail.com", "guerrillamail.de", "guerrillamail.info", "guerrillamail.net", "guerrillamail.org",
    "guerrillamailblock.com", "harakirimail.com", "incognitomail.org", "inboxkitten.com", "mailcatch.com",
    "maildrop.cc", "mailinator.com", "mailinator.net", "mailnesia.com", "mailsac.com", "mintemail.com",
    "moakt.com", "mohmal.com", "mytemp.email", "mytrashmail.com", "nada.email", "sharklasers.com",
    "spam4.me", "spambox.us", "spamgourmet.com", "temp-mail.io", "temp-mail.org", "tempail.com",
    "tempinbox.com", "tempmail.com", "tempmail.net", "tempmailo.com", "tempr.email", "throwawaymail.com",
    "trashmail.com", "trashmail.de", "trashmail.net", "yopmail.com", "yopmail.fr", "yopmail.net",
})


class EmailPolicy:
    def __init__(self, blocked: tuple[str, ...] = (), disposable: frozenset[str] = DISPOSABLE_DOMAINS) -> None:
        self._blocked = frozenset(d.lower().lstrip("@") for d in blocked)
        self._disposable = disposable

    def blocked(self, email: str) -> bool:
        return _matches(email_domain(email), self._blocked)

    def disposable(self, email: str) -> bool:
        return _matches(email_domain(email), self._disposable)


def _matches(domain: str, domains: frozenset[str]) -> bool:
    """The domain itself or any parent domain of it (mail.yopmail.com is yopmail.com)."""
    parts = domain.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))
