"""Finding PostgreSQL and Redis for tests, in this order:

1. `TEST_DATABASE_URL` / `TEST_REDIS_URL` when set (used as given, never second-guessed);
2. the default local addresses (what compose.yaml, CI and a distribution's packages give):
   PostgreSQL at 127.0.0.1:5432 as `postgres`, `root` or the current user, passwordless, with the
   right to CREATE DATABASE; Redis at 127.0.0.1:6379 answering PING;
3. throwaway servers: `initdb`/`pg_ctl` on PATH or under /usr/lib/postgresql/*/bin (as root they
   run as the `postgres` user, in a temp dir it owns), `redis-server` on PATH;
4. else a loud skip, or a failure with GATEWAYZ_REQUIRE_SERVICES=1.

Sharing a local server is safe: every session creates (and drops) its own databases, every test
prefixes its Redis keys, and nothing here or in the tests flushes a Redis database.
"""

from __future__ import annotations

import asyncio
import getpass
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

REQUIRE = os.environ.get("GATEWAYZ_REQUIRE_SERVICES") == "1"
LOCAL_HOST = "127.0.0.1"
POSTGRES_PORT, REDIS_PORT = 5432, 6379
PROBE_TIMEOUT_S = 2.0

# What each session used and where it came from, for the run's closing summary.
FOUND: dict[str, str] = {}


def unavailable(reason: str) -> None:
    """Skip loudly, or fail when CI demands real services."""
    message = f"SERVICES UNAVAILABLE: {reason}"
    if REQUIRE:
        pytest.fail(message + " (GATEWAYZ_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return int(s.getsockname()[1])


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False


# ------------------------------------------------------------------ throwaway servers


@dataclass
class Throwaway:
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    stops: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)

    def close(self) -> None:
        for cmd, kwargs in self.stops:
            subprocess.run(cmd, capture_output=True, check=False, timeout=60, **kwargs)
        for p in self.processes:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def start_redis(t: Throwaway) -> str | None:
    exe = shutil.which("redis-server")
    if not exe:
        return None
    port = free_port()
    p = subprocess.Popen([exe, "--port", str(port), "--bind", LOCAL_HOST, "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.processes.append(p)
    url = f"redis://{LOCAL_HOST}:{port}/0"
    for _ in range(50):
        if redis_answers(url):
            return url
        time.sleep(0.1)
    return None


def postgres_binaries() -> tuple[str, str] | None:
    """initdb and pg_ctl from one installation: PATH first, then the distributions' versioned dirs
    (Debian/Ubuntu /usr/lib/postgresql/N/bin, RHEL /usr/pgsql-N/bin), newest first."""
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if on_path[0] and on_path[1]:
        return on_path[0], on_path[1]

    def version(d: str) -> tuple[int, ...]:
        digits = "".join(c if c.isdigit() else " " for c in d).split()
        return tuple(int(x) for x in digits)

    dirs = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")
    for d in sorted(dirs, key=version, reverse=True):
        initdb, pg_ctl = os.path.join(d, "initdb"), os.path.join(d, "pg_ctl")
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return initdb, pg_ctl
    return None


def start_postgres(t: Throwaway) -> tuple[str | None, str]:
    """A throwaway cluster on a free port; the URL, or None and why not. PostgreSQL refuses to run
    as root, so as root it runs as the `postgres` user (which every distribution package creates)."""
    binaries = postgres_binaries()
    if not binaries:
        return None, "no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin"
    initdb, pg_ctl = binaries
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            return None, f"running as root and there is no `postgres` user to run {initdb} as"
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
                   "env": {**os.environ, "HOME": account.pw_dir, "USER": "postgres", "LOGNAME": "postgres"}}
    base = tempfile.mkdtemp(prefix="gwpg-")
    t.dirs.append(base)
    if as_user:
        os.chown(base, as_user["user"], as_user["group"])
    data, log = os.path.join(base, "data"), os.path.join(base, "server.log")
    port = free_port()
    try:
        subprocess.run([initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
                       check=True, capture_output=True, timeout=120, cwd=base, **as_user)
        # -l: the server's output goes to a file; a pipe would keep this call waiting for its EOF.
        subprocess.run([pg_ctl, "-D", data, "-l", log, "-o", f"-p {port} -k {base} -h {LOCAL_HOST} -F", "-w",
                        "start"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120, cwd=base, **as_user)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return None, f"{initdb} could not start a throwaway server: {exc} {detail.decode(errors='replace')[-300:]}"
    t.stops.append(([pg_ctl, "-D", data, "-m", "immediate", "stop"], {"cwd": base, **as_user}))
    return f"postgresql+asyncpg://postgres@{LOCAL_HOST}:{port}/postgres", ""


# ------------------------------------------------------------------ probes


def _run_async(coro: Any) -> Any:
    """asyncio.run in a thread of its own, so a probe works whether or not a loop is running here."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _can_create_database(host: str, port: int, user: str, password: str | None = None,
                               database: str = "postgres") -> bool:
    import asyncpg

    conn = await asyncpg.connect(host=host, port=port, user=user, password=password, database=database,
                                 timeout=PROBE_TIMEOUT_S)
    try:
        return bool(await conn.fetchval(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"))
    finally:
        await conn.close()


def local_postgres(host: str = LOCAL_HOST, port: int = POSTGRES_PORT) -> tuple[str | None, str]:
    """The server at the default local address, as the first of `postgres`, `root` or the current
    user that connects without a password (then compose.yaml's account, for its container with the
    port published) and may CREATE DATABASE; the URL, or None and why not."""
    if not _listening(host, port):
        return None, f"nothing listens on {host}:{port}"
    tried: list[str] = []
    candidates = [(user, None, "postgres") for user in dict.fromkeys(["postgres", "root", getpass.getuser()])]
    for user, password, database in [*candidates, ("gatewayz", "gatewayz", "gatewayz")]:
        try:
            if _run_async(_can_create_database(host, port, user, password, database)):
                secret = f":{password}" if password else ""
                return f"postgresql+asyncpg://{user}{secret}@{host}:{port}/{database}", ""
            tried.append(f"{user}: may not CREATE DATABASE")
        except Exception as exc:
            tried.append(f"{user}: {type(exc).__name__}: {str(exc)[:120]}")
    return None, f"{host}:{port} refused every user ({'; '.join(tried)})"


def redis_answers(url: str) -> bool:
    """PING over a plain socket (no client library, no loop): True on +PONG."""
    from urllib.parse import urlparse

    target = urlparse(url)
    try:
        with socket.create_connection((target.hostname or LOCAL_HOST, target.port or REDIS_PORT),
                                      PROBE_TIMEOUT_S) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# ------------------------------------------------------------------ discovery


def find_postgres(t: Throwaway) -> tuple[str | None, str]:
    """A PostgreSQL server URL (database `postgres`) this session may create databases on, or None
    and everything that was tried."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        FOUND["PostgreSQL"] = f"{url} (TEST_DATABASE_URL)"
        return url, ""
    url, local_why = local_postgres()
    if url:
        FOUND["PostgreSQL"] = f"{url} (the default local address)"
        return url, ""
    url, throwaway_why = start_postgres(t)
    if url:
        FOUND["PostgreSQL"] = f"{url} (a throwaway server)"
        return url, ""
    return None, f"no TEST_DATABASE_URL; {local_why}; {throwaway_why}"


def find_redis(t: Throwaway) -> tuple[str | None, str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        FOUND["Redis"] = f"{url} (TEST_REDIS_URL)"
        return url, ""
    local = f"redis://{LOCAL_HOST}:{REDIS_PORT}/0"
    if redis_answers(local):
        FOUND["Redis"] = f"{local} (the default local address)"
        return local, ""
    url = start_redis(t)
    if url:
        FOUND["Redis"] = f"{url} (a throwaway server)"
        return url, ""
    return None, f"no TEST_REDIS_URL; nothing answered PING at {LOCAL_HOST}:{REDIS_PORT}; no redis-server on PATH"
