"""The seed's 404 texts, in one place: clients match on them, so every route words them alike."""

from __future__ import annotations

from domain.errors import NotFound


def user(user_id: int | None = None) -> NotFound:
    """`User 42 not found` where the seed names the id, else `User not found`."""
    return NotFound("User not found" if user_id is None else f"User {user_id} not found")


def api_key(key_id: int | None = None) -> NotFound:
    return NotFound("API key not found" if key_id is None else f"API key {key_id} not found")


def transaction(transaction_id: int) -> NotFound:
    return NotFound(f"Transaction {transaction_id} not found")


def coupon(qualifier: str = "") -> NotFound:
    """`Coupon not found`, or with the seed's qualifier (`or already inactive`, `or update failed`)."""
    return NotFound(f"Coupon not found {qualifier}" if qualifier else "Coupon not found")


def model(model_id: str | None = None) -> NotFound:
    return NotFound("Model not found" if model_id is None else f"Model '{model_id}' not found", code="model_not_found")


def breaker(provider: str) -> NotFound:
    return NotFound(f"Circuit breaker for provider '{provider}' not found")


def session() -> NotFound:
    """#1692, #1699, #1700 say `Session not found`; #1701-#1704 and #1696 `Chat session not found`."""
    return NotFound("Session not found")


def chat_session() -> NotFound:
    return NotFound("Chat session not found")


def message() -> NotFound:
    return NotFound("Message not found")


def feedback() -> NotFound:
    return NotFound("Feedback not found")


def incident() -> NotFound:
    return NotFound("Incident not found")
