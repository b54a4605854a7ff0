"""Privy identity tokens, verified by PyJWT: ES256 only, against PRIVY_VERIFICATION_KEY (PEM) or the
keys at PRIVY_JWKS_URL (cached, refetched once on an unknown `kid`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import ECAlgorithm

from domain.errors import InvalidIdentityToken
from domain.identity import PrivyIdentity, linked_accounts

ISSUER = "privy.io"
ALGORITHMS = ["ES256"]  # never taken from the token: `none`, HS256 and the rest are refused
LEEWAY_S = 60


class JwtPrivyVerifier:
    def __init__(self, *, app_id: str | None, verification_key: str | None = None, jwks_url: str | None = None,
                 jwks_cache_s: float = 3600.0, fetch_timeout_s: float = 5.0) -> None:
        self._app_id = app_id
        self._pem_key: Any = None
        if verification_key:
            try:
                self._pem_key = ECAlgorithm(ECAlgorithm.SHA256).prepare_key(verification_key)
            except Exception as exc:  # a bad setting must say so at startup, not per login
                raise ValueError("PRIVY_VERIFICATION_KEY is not a PEM EC public key") from exc
        self._jwks_url = jwks_url
        self._jwks_cache_s = jwks_cache_s
        self._timeout = fetch_timeout_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._app_id) and (self._pem_key is not None or bool(self._jwks_url))

    async def verify(self, token: str) -> PrivyIdentity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidIdentityToken() from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidIdentityToken()
        key = self._pem_key if self._pem_key is not None else await self._jwks_key(header.get("kid"))
        try:
            claims = jwt.decode(token, key=key, algorithms=ALGORITHMS, audience=self._app_id, issuer=ISSUER,
                                leeway=LEEWAY_S, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise InvalidIdentityToken() from exc
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat > time.time() + LEEWAY_S:  # PyJWT checks iat's type only
            raise InvalidIdentityToken()
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidIdentityToken()
        return PrivyIdentity(subject=subject, linked_accounts=linked_accounts(claims.get("linked_accounts")))

    async def _jwks_key(self, kid: Any) -> Any:
        if not isinstance(kid, str) or not self._jwks_url:
            raise InvalidIdentityToken()
        fresh = time.monotonic() - self._fetched_at < self._jwks_cache_s
        if kid in self._keys and fresh:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys or time.monotonic() - self._fetched_at >= self._jwks_cache_s:
                await self._refresh()
        if kid not in self._keys:
            raise InvalidIdentityToken()
        return self._keys[kid]

    async def _refresh(self) -> None:
        """One fetch per unknown kid at most per second: a stream of forged kids cannot hammer Privy."""
        if time.monotonic() - self._fetched_at < 1.0:
            return
        assert self._jwks_url is not None
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as session, \
                    session.get(self._jwks_url) as resp:
                resp.raise_for_status()
                document = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            if self._keys:
                return  # keep serving the keys we have
            raise InvalidIdentityToken() from exc
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                keys[jwk["kid"]] = ECAlgorithm.from_jwk(jwk)
            except (jwt.PyJWTError, ValueError, KeyError):
                continue
        self._keys = keys
        self._fetched_at = time.monotonic()
