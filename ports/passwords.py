"""Password hashing (argon2id), off the event loop."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password or an unreadable hash; never raises for those."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """The hash was made with other parameters than the current ones."""
        ...
