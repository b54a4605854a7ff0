"""The emails Gatewayz sends, as text and HTML; the Notifier port delivers them."""

from __future__ import annotations

import html

import msgspec

WELCOME = "welcome"
PASSWORD_RESET = "password_reset"
PASSWORD_CHANGED = "password_changed"
EMAIL_CHANGED = "email_changed"


class Email(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    to: str
    subject: str
    text: str
    html: str
    user_id: int | None = None


def _html(paragraphs: list[str], link: str | None = None) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if link:
        body += f'<p><a href="{html.escape(link, quote=True)}">{html.escape(link)}</a></p>'
    return f"<!doctype html><html><body>{body}</body></html>"


def welcome(to: str, username: str, *, user_id: int | None = None) -> Email:
    lines = [f"Welcome to Gatewayz, {username}!",
             "Your account is ready: one API key for every AI model. Your key was shown once when you signed up; "
             "you can create more under your account's API keys."]
    return Email(kind=WELCOME, to=to, subject="Welcome to Gatewayz", text="\n\n".join(lines) + "\n",
                 html=_html(lines), user_id=user_id)


def password_reset(to: str, username: str, link: str, *, ttl_minutes: int, user_id: int | None = None) -> Email:
    lines = [f"Hello {username},",
             f"Someone asked to reset the password of your Gatewayz account. The link below works once, "
             f"for {ttl_minutes} minutes:"]
    tail = ["If this was not you, ignore this email: your password stays as it is."]
    return Email(kind=PASSWORD_RESET, to=to, subject="Reset your Gatewayz password",
                 text="\n\n".join([*lines, link, *tail]) + "\n", html=_html(lines, link) + _html(tail),
                 user_id=user_id)


def password_changed(to: str, username: str, *, user_id: int | None = None) -> Email:
    lines = [f"Hello {username},", "The password of your Gatewayz account was just changed, and every browser "
             "session was signed out.", "If this was not you, reset your password at once and contact support."]
    return Email(kind=PASSWORD_CHANGED, to=to, subject="Your Gatewayz password was changed",
                 text="\n\n".join(lines) + "\n", html=_html(lines), user_id=user_id)


def email_changed(old_address: str, username: str, new_address: str, *, user_id: int | None = None) -> Email:
    lines = [f"Hello {username},", f"The email address of your Gatewayz account was changed to {new_address}.",
             "If this was not you, contact support at once."]
    return Email(kind=EMAIL_CHANGED, to=old_address, subject="Your Gatewayz email address was changed",
                 text="\n\n".join(lines) + "\n", html=_html(lines), user_id=user_id)
