"""Authenticate: a presented key -> the Principal it belongs to, or the documented 401."""

from __future__ import annotations

from domain.api_keys import Principal, hash_key, looks_like_key
from domain.errors import AuthenticationRequired, InvalidApiKey
from ports.accounts import KeyDirectory
from ports.clock import Clock


class Authenticate:
    def __init__(self, directory: KeyDirectory, clock: Clock, key_secret: bytes) -> None:
        self._directory = directory
        self._clock = clock
        self._secret = key_secret

    async def __call__(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthenticationRequired()
        if not looks_like_key(presented):
            raise InvalidApiKey()
        principal = await self._directory.find(hash_key(self._secret, presented))
        if principal is None or not principal.user.is_active:
            raise InvalidApiKey()
        if not principal.key.usable_at(self._clock.now()):
            raise InvalidApiKey()
        return principal
