"""Idempotency keys: a write repeated with the same key answers with its first result and changes nothing.

A key is claimed in the same transaction as the write it guards, and the result stored with it, so
either both commit or neither does. Only successful writes are stored: a refused request may be
retried with the same key."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec

from domain.errors import InvalidInput

T = TypeVar("T")
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    scope: str        # the operation and the caller: a key means nothing across either
    key: str
    fingerprint: str  # digest of the request, to catch a key reused for a different request
    status: int = 0   # 0 while claimed, before the result is stored
    body: Any = None  # the result, as JSON-compatible builtins
    created_at: datetime


class Once(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """A write's result, and whether it is the stored result of an earlier request with the same key."""

    value: T
    replayed: bool = False


def checked_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"must be 1-{MAX_KEY_LENGTH} printable characters", field=HEADER,
                           loc=["header", HEADER.lower()])
    return key


def fingerprint(request: Any) -> str:
    """A stable digest of a request (any msgspec-encodable value; dict keys are sorted)."""
    return hashlib.sha256(msgspec.json.encode(msgspec.to_builtins(request, order="sorted"))).hexdigest()
