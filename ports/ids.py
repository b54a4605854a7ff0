"""Identifiers and secrets, so that services stay deterministic under test."""

from __future__ import annotations

from typing import Protocol


class IdGenerator(Protocol):
    def request_id(self) -> str: ...

    def key_body(self) -> str:
        """43 url-safe characters of cryptographic randomness for a new API key."""
        ...
