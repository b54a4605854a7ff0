"""Verification of third-party identity tokens (Privy)."""

from __future__ import annotations

from typing import Protocol

from domain.identity import PrivyIdentity


class PrivyVerifier(Protocol):
    @property
    def configured(self) -> bool:
        """An app id and a key source (PEM or JWKS URL) are set."""
        ...

    async def verify(self, token: str) -> PrivyIdentity:
        """Raises InvalidIdentityToken for any failure: algorithm, signature, issuer, audience, times."""
        ...
