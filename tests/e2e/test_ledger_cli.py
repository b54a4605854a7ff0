"""`gatewayz ledger verify` as a process against the embedded SQLite: clean after real credit traffic,
exit 1 naming the user and the row once a row is corrupted behind the ledger's back."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import settings_env
from tests.harness import bearer, running_app

ROOT = Path(__file__).resolve().parents[2]


def gatewayz(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(DATABASE_URL=database_url), "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "gatewayz", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


async def some_credit_traffic(database_url: str) -> tuple[int, int]:
    """Grants, a debit and a refund through the HTTP app; returns (user id, one of their row ids)."""
    async with running_app(database_url) as app:
        _, admin = await app.user("root@example.com", admin=True)
        user_id, key = await app.user("ada@example.com", credits=5)
        h = bearer(admin)
        assert (await app.client.post("/admin/add_credits", headers=h, json={
            "api_key": key, "credits": 10, "reason": "cli verification"})).status_code == 200
        debit = await app.client.post("/credits/adjust", headers=h, json={
            "user_id": user_id, "amount": "-2.5", "reason": "cli verification"})
        assert debit.status_code == 200
        assert (await app.client.post("/credits/refund", headers=h, json={
            "user_id": user_id, "amount": 1, "original_transaction_id": debit.json()["transaction_id"]})
                ).status_code == 200
        return user_id, debit.json()["transaction_id"]


async def test_ledger_verify_is_clean_after_traffic_and_exits_1_on_a_corrupted_row(
        sqlite_url: str, tmp_path: Path) -> None:
    user_id, row_id = await some_credit_traffic(sqlite_url)
    created = gatewayz(sqlite_url, tmp_path, "users", "create", "--email", "cli@example.com", "--credits", "3")
    assert created.returncode == 0, created.stderr

    clean = gatewayz(sqlite_url, tmp_path, "ledger", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "users checked: 3" in clean.stdout and "rows checked: 5" in clean.stdout
    assert "mismatches: 0" in clean.stdout and "open holds: 0" in clean.stdout and "ledger OK" in clean.stdout

    path = sqlite_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE credit_transactions SET amount = '-3.5000000000' WHERE id = ?", (row_id,))
    broken = gatewayz(sqlite_url, tmp_path, "ledger", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "LEDGER MISMATCH" in broken.stdout
    assert f"user {user_id} transaction {row_id}: row_arithmetic" in broken.stdout
    assert f"user {user_id}: balance_mismatch" in broken.stdout

    as_json = gatewayz(sqlite_url, tmp_path, "ledger", "verify", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["rows_checked"] == 5 and report["users_checked"] == 3
    assert {(m["user_id"], m["kind"]) for m in report["mismatches"]} == {
        (user_id, "row_arithmetic"), (user_id, "balance_mismatch")}
