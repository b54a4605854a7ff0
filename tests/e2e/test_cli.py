"""`gatewayz` as an operator runs it: subprocesses in a fresh directory with the embedded SQLite."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gatewayz.cli import main
from tests.conftest import _admin_sql, in_thread
from tests.services import free_port, unique_name

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^gw_live_[A-Za-z0-9_-]{43}$")
TABLES = ("users", "api_keys", "credit_transactions", "audit_log")


def env_skipped() -> set[str]:
    """Variables that would point the CLI elsewhere than the embedded default."""
    return {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "GATEWAYZ_KEY_SECRET", "GATEWAYZ_KEY_SECRET_FILE",
            "ADMIN_API_KEY"}


def env() -> dict[str, str]:
    """The caller's environment minus `env_skipped()`, importing this checkout."""
    clean = {k: v for k, v in os.environ.items() if k not in env_skipped()}
    return clean | {"PYTHONPATH": str(ROOT), "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING"}


def gatewayz(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatewayz", *args], cwd=home, env=env(), capture_output=True,
                          text=True, timeout=60, check=False)


def ok(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = gatewayz(home, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def query(home: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "gatewayz.db") as db:
        return db.execute(sql).fetchall()


def row_counts(home: Path) -> dict[str, int]:
    return {t: int(query(home, f"SELECT COUNT(*) FROM {t}")[0][0]) for t in TABLES}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template")
    first = ok(home, "migrate")
    assert "newest schema" in first.stdout
    return home


@pytest.fixture
def home(migrated: Path, tmp_path: Path) -> Path:
    """A fresh working directory holding a migrated embedded database (copied: migrating costs a process)."""
    target = tmp_path / "home"
    shutil.copytree(migrated, target)
    return target


def test_migrate_brings_the_embedded_sqlite_to_head_and_a_second_run_changes_nothing(home: Path) -> None:
    schema = query(home, "SELECT type, name, sql FROM sqlite_master ORDER BY name")  # `home` was migrated once
    assert {name for _, name, _ in schema} >= {*TABLES, "alembic_version"}
    version = query(home, "SELECT version_num FROM alembic_version")
    assert len(version) == 1
    again = ok(home, "migrate")
    assert "newest schema" in again.stdout
    assert query(home, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert query(home, "SELECT version_num FROM alembic_version") == version


def test_users_and_keys_are_created_shown_once_stored_hashed_and_revoked(home: Path) -> None:
    created = json.loads(ok(home, "users", "create", "--email", "Root@Example.com", "--admin", "--credits", "5",
                            "--json").stdout)
    assert isinstance(created["user_id"], int)
    assert KEY.match(created["api_key"])
    assert query(home, "SELECT email, role, purchased_credits FROM users") == [
        ("root@example.com", "admin", "5.0000000000")]
    assert query(home, "SELECT user_id, amount, transaction_type FROM credit_transactions") == [
        (created["user_id"], "5.0000000000", "admin_credit")]

    secret_file = home / ".gatewayz" / "key_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    digest = hmac.new(secret_file.read_text().strip().encode(), created["api_key"].encode(), hashlib.sha256)
    assert query(home, "SELECT key_hash FROM api_keys") == [(digest.hexdigest(),)]

    second = json.loads(ok(home, "keys", "create", "--user-id", str(created["user_id"]), "--name", "ci",
                           "--json").stdout)
    assert KEY.match(second["api_key"]) and second["api_key"] != created["api_key"]
    assert second["user_id"] == created["user_id"]

    revoked = ok(home, "keys", "revoke", str(second["key_id"]))
    assert str(second["key_id"]) in revoked.stdout
    assert dict(query(home, "SELECT name, is_active FROM api_keys")) == {"default": 1, "ci": 0}
    raw = b"".join(p.read_bytes() for p in home.glob("gatewayz.db*"))
    for key in (created["api_key"], second["api_key"]):
        assert key.encode() not in raw and key[8:].encode() not in raw


def in_process(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               *args: str, **env: str) -> tuple[int, str, str]:
    """`gatewayz ARGS` through the same `main`, in this process (a subprocess costs a second of imports);
    against the embedded SQLite in `home` unless `env` points elsewhere."""
    monkeypatch.chdir(home)
    for name in env_skipped():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run() -> int:
        try:
            return main(list(args))
        except SystemExit as exc:  # argparse refusals
            return int(exc.code or 0)

    code = in_thread(run)  # its own event loop, off the test's
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_input_exits_non_zero_with_a_clear_message_and_writes_nothing(
        home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert in_process(home, monkeypatch, capsys, "users", "create", "--email", "taken@example.com")[0] == 0
    before = row_counts(home)
    as_processes = [  # the two the operator meets most, as real processes
        (["users", "create", "--email", "not-an-email", "--credits", "5"], "email"),
        (["users", "create", "--email", "neg@example.com", "--credits", "-5"], "non-negative"),
    ]
    with ThreadPoolExecutor(len(as_processes)) as pool:
        done = list(pool.map(lambda case: gatewayz(home, *case[0]), as_processes))
    results = [(args, message, d.returncode, d.stdout, d.stderr) for (args, message), d in zip(as_processes, done,
                                                                                            strict=True)]
    for args, message in [
        (["users", "create", "--email", "nan@example.com", "--credits", "lots"], "amount"),
        (["users", "create", "--email", "huge@example.com", "--credits", "1e30"], "credits out of range"),
        (["users", "create", "--email", "TAKEN@example.com"], "already exists"),
        (["keys", "create", "--user-id", "999"], "not found"),
        (["keys", "revoke", "999"], "not found"),
    ]:
        results.append((args, message, *in_process(home, monkeypatch, capsys, *args)))
    for args, message, code, stdout, stderr in results:
        assert code != 0, args
        assert message in stderr.lower(), (args, stderr)
        assert "Traceback" not in stderr, (args, stderr)
        assert "gw_live_" not in stdout, args
    assert row_counts(home) == before


NOT_MIGRATED = "database is not migrated: run gatewayz migrate"
SECRET = {"GATEWAYZ_KEY_SECRET": "cli-test-secret-" + "x" * 32}  # required off the embedded default
DATA_COMMANDS = (["users", "create", "--email", "a@example.com"], ["keys", "create", "--user-id", "1"],
                 ["keys", "revoke", "1"], ["ledger", "verify"], ["catalog", "load", "--default"])


def test_a_never_migrated_embedded_database_is_named_as_such_with_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    done = gatewayz(tmp_path, "ledger", "verify")  # once as the operator runs it
    assert (done.returncode, done.stderr.strip(), done.stdout) == (2, NOT_MIGRATED, "")
    for args in DATA_COMMANDS:
        assert in_process(tmp_path, monkeypatch, capsys, *args) == (2, "", NOT_MIGRATED + "\n"), args


def test_a_never_migrated_postgres_database_is_named_as_such_and_an_unreachable_one_as_unavailable(
        tmp_path: Path, postgres_server_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    empty = unique_name("gatewayz_empty")
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'CREATE DATABASE "{empty}"'))
    try:
        url = f"{postgres_server_url.rsplit('/', 1)[0]}/{empty}"
        for args in DATA_COMMANDS[:2]:
            assert in_process(tmp_path, monkeypatch, capsys, *args, DATABASE_URL=url, **SECRET) == (
                2, "", NOT_MIGRATED + "\n"), args
    finally:
        in_thread(asyncio.run, _admin_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)'))
    gone = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"  # nothing listens there
    code, out, err = in_process(tmp_path, monkeypatch, capsys, "users", "create", "--email", "b@example.com",
                                DATABASE_URL=gone, **SECRET)
    assert (code, out, err) == (1, "", "error: Database unavailable\n")


@pytest.fixture
def server(home: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gatewayz", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=home, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.1)
        yield base, home
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_the_served_gateway_admits_admins_refuses_others_and_stops_cleanly(server: tuple[str, Path]) -> None:
    base, home = server
    with ThreadPoolExecutor(2) as pool:  # two operators at once: SQLite serialises the writers
        admin, user = (json.loads(done.stdout) for done in pool.map(lambda args: ok(home, *args), [
            ("users", "create", "--email", "root@example.com", "--admin", "--json"),
            ("users", "create", "--email", "user@example.com", "--json")]))
    with httpx.Client(base_url=base, timeout=5) as client:
        health = client.get("/health", headers={"X-Request-Id": "e2e-1"})
        assert health.status_code == 200 and health.headers["x-request-id"] == "e2e-1"
        counted = client.get("/admin/users/count", headers={"Authorization": f"Bearer {admin['api_key']}"})
        assert (counted.status_code, counted.json()["count"]) == (200, 2)
        refused = client.get("/admin/users/count", headers={"Authorization": f"Bearer {user['api_key']}"})
        assert (refused.status_code, refused.json()) == (403, {"detail": "Admin access required"})
        anonymous = client.get("/admin/users/count")
        assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "API key required"})
        assert client.get("/health/ready").json() == {"status": "ready", "checks": {"database": "ok"}}
    assert query(home, "SELECT COUNT(*) FROM audit_log WHERE event_type = 'UNAUTHORIZED_ADMIN_ACCESS'") == [(1,)]
