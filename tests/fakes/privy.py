"""A fake Privy issuer: an EC P-256 key pair per instance that signs identity tokens the way Privy
does (ES256, iss "privy.io", aud the app id, `linked_accounts` as a JSON string), and serves its
public key as a JWKS document over HTTP (aiohttp) for the JWKS mode."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

APP_ID = "test-privy-app"


class FakePrivy:
    def __init__(self, *, app_id: str = APP_ID, kid: str = "test-key-1") -> None:
        self.app_id = app_id
        self.kid = kid
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.jwks_requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    def token(self, sub: str, *, linked_accounts: list[dict[str, Any]] | None = None, iss: str = "privy.io",
              aud: str | None = None, exp_in: float = 3600, iat_offset: float = 0, kid: str | None = None,
              key: Any = None, algorithm: str = "ES256", extra: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sid": "session", "sub": sub, "iss": iss, "aud": aud or self.app_id,
                                  "iat": int(now + iat_offset), "exp": int(now + exp_in),
                                  "linked_accounts": json.dumps(linked_accounts or [])}
        claims.update(extra or {})
        return jwt.encode(claims, key if key is not None else self.private_key, algorithm=algorithm,
                          headers={"kid": kid or self.kid})

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "ES256"})
        return {"keys": [jwk]}

    def env(self, mode: str = "pem") -> dict[str, str]:
        """The gateway settings that trust this issuer (PEM key, or the JWKS URL of a started server)."""
        if mode == "pem":
            return {"PRIVY_APP_ID": self.app_id, "PRIVY_VERIFICATION_KEY": self.public_pem}
        return {"PRIVY_APP_ID": self.app_id, "PRIVY_JWKS_URL": self.url + "/jwks.json"}

    async def start(self) -> FakePrivy:
        async def serve(_request: web.Request) -> web.Response:
            self.jwks_requests += 1
            return web.json_response(self.jwks())

        app = web.Application()
        app.router.add_get("/jwks.json", serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def email_account(address: str, *, verified: bool = True) -> dict[str, Any]:
    account: dict[str, Any] = {"type": "email", "address": address}
    if verified:
        account["verified_at"] = int(time.time())
    return account
