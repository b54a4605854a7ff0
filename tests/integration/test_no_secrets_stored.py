"""No route stores a secret in clear: after every flow that makes one (registration, logins, own keys,
rotation, password reset), the whole database is scanned for the plaintexts it handed out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from adapters.postgres.engine import create_engine
from adapters.postgres.tables import metadata
from tests.fakes.privy import FakePrivy, email_account
from tests.fakes.smtp import FakeSmtp, text_body
from tests.harness import bearer, running_app
from tests.integration.accounts_kit import RELAXED, deployment, identity, tag


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


async def everything(database_url: str) -> str:
    """Every row of every table, as text."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            dumps = []
            for table in metadata.sorted_tables:
                result = await conn.execute(text(f'SELECT * FROM "{table.name}"'))
                dumps.extend(repr(tuple(r)) for r in result)
            return "\n".join(dumps)
    finally:
        await engine.dispose()


async def test_the_database_holds_no_key_token_or_password(app_env: dict[str, str]) -> None:
    privy, smtp = FakePrivy(), FakeSmtp().start()
    env = dict(app_env)
    url = env.pop("database_url")
    secrets: list[str] = []
    try:
        async with running_app(url, **privy.env("pem"), **smtp.env(), **RELAXED, **env) as app:
            username, email = identity()
            password = f"pw-{tag()}-{tag()}"
            reg = (await app.client.post("/auth/register", json={"username": username, "email": email,
                                                                 "password": password})).json()
            secrets += [reg["api_key"], password]
            login = (await app.client.post("/auth/login", json={"email": email, "password": password})).json()
            secrets.append(login["api_key"])
            sub = f"did:privy:{tag()}"
            token = privy.token(sub, linked_accounts=[email_account(identity()[1])])
            privy_key = (await app.client.post("/auth", json={"user": {"id": sub}, "identity_token": token})).json()
            secrets += [privy_key["api_key"], token]
            own = (await app.client.post("/user/api-keys", json={"name": "own"}, headers=bearer(reg["api_key"])))
            secrets.append(own.json()["api_key"])
            rotated = await app.client.post(f"/user/api-keys/{own.json()['id']}/rotate", json={"grace_seconds": 60},
                                            headers=bearer(reg["api_key"]))
            secrets.append(rotated.json()["api_key"])
            await app.client.post("/auth/password-reset", params={"email": email})
            count = 1
            link: str | None = None
            while link is None:
                for message in await smtp.wait_for(count):
                    found = re.search(r"reset-password\?token=(\S+)", text_body(message))
                    if found and message["To"] == email:
                        link = found.group(1)
                count += 1
            new_password = f"new-{tag()}-{tag()}"
            done = await app.client.post("/auth/reset-password", params={"token": link},
                                         json={"new_password": new_password})
            assert done.status_code == 200
            secrets += [link, new_password]
    finally:
        smtp.stop()
    dump = await everything(url)
    assert all(isinstance(s, str) and len(s) >= 8 for s in secrets)
    leaked: list[Any] = [s[:12] for s in secrets if s in dump]
    assert leaked == []
    assert "$argon2id$" in dump  # the passwords are there, hashed
