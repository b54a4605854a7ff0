"""DELETE /admin/users/by-domain/{domain} (#1628) on SQLite and PostgreSQL + Redis: wildcards and
protected domains refused with nothing deleted, dry run by default, exact-domain matching, a real run
through the account-deletion service (keys 401 at once, person erased, ledger still verifies), one
audit record per deleted user naming the admin."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from adapters.postgres.tables import audit_log, users
from domain.audit import ACCOUNT_DELETED
from tests.harness import Running, bearer, running_app

PATH = "/admin/users/by-domain/"


async def emails(r: Running) -> set[str]:
    engine = await r.service("engine")
    async with engine.connect() as conn:
        return {e for (e,) in (await conn.execute(select(users.c.email).where(users.c.deleted_at.is_(None)))).all()}


async def test_domain_deletion(app: Running, database_url: str, deployment_env: dict[str, str]) -> None:
    admin_id, admin_key = await app.user("root@admin.test", admin=True)
    h = bearer(admin_key)
    doomed = {}
    for email in ("a@spam.org", "B@Spam.org"):
        doomed[email] = await app.user(email, credits=2)
    for email in ("a@sub.spam.org", "a@spam.org.evil", "keep@gmail.com", "x@spamXorg.com"):
        await app.user(email)
    before = await emails(app)
    for bad in ("%25", "_", "*", "gmail.com", "GMAIL.COM", " Gmail.com ", "spam", "sp%25am.org", "-x.org"):
        refused = await app.client.delete(PATH + bad, headers=h, params={"dry_run": "false"})
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["detail"] in ("Invalid domain", "Cannot delete protected domain")
    assert (await app.client.delete(PATH + "GMAIL.COM", headers=h)).json()["detail"] == "Cannot delete protected domain"
    assert await emails(app) == before

    dry = (await app.client.delete(PATH + "Spam.ORG", headers=h)).json()
    assert dry["dry_run"] is True and dry["count"] == 2
    assert dry["message"] == "DRY RUN: Would delete 2 users from domain: spam.org"
    assert {u["email"] for u in dry["users"]} == {"a@spam.org", "b@spam.org"} and dry["users"][0]["credits"] == 2
    assert await emails(app) == before
    none = (await app.client.delete(PATH + "nobody.example", headers=h)).json()
    assert none["message"] == "No users found with email domain: nobody.example" and none["count"] == 0

    async with running_app(database_url, **deployment_env) as other:
        for _, key in doomed.values():  # both processes hold the keys in their key caches
            assert (await app.client.get("/user/balance", headers=bearer(key))).status_code == 200
            assert (await other.client.get("/user/balance", headers=bearer(key))).status_code == 200
        done = (await app.client.delete(PATH + "spam.org", headers=h, params={"dry_run": "false"})).json()
        if "REDIS_URL" in deployment_env:  # the revocation broadcast reaches the other process
            for _, key in doomed.values():
                for _ in range(100):
                    if (await other.client.get("/user/balance", headers=bearer(key))).status_code == 401:
                        break
                    await asyncio.sleep(0.05)
                assert (await other.client.get("/user/balance", headers=bearer(key))).status_code == 401
    assert done["message"] == "Deleted 2 users from domain: spam.org" and done["failed"] == []
    assert await emails(app) == before - {"a@spam.org", "b@spam.org"}
    for _, key in doomed.values():
        assert (await app.client.get("/user/balance", headers=bearer(key))).status_code == 401
    report = await (await app.service("verify_ledger"))()
    ids = {uid for uid, _ in doomed.values()}
    assert [m for m in report.mismatches if m.user_id in ids] == []
    engine = await app.service("engine")
    async with engine.connect() as conn:
        audited = (await conn.execute(select(audit_log.c.user_id, audit_log.c.details)
                                      .where(audit_log.c.user_id.in_(ids),
                                             audit_log.c.event_type == ACCOUNT_DELETED))).all()
    assert {uid for uid, _ in audited} == ids and all(f"admin:{admin_id}" in d["by"] for _, d in audited)
    again = (await app.client.delete(PATH + "spam.org", headers=h, params={"dry_run": "false"})).json()
    assert again["count"] == 0  # erased accounts are not found twice
