"""Finding PostgreSQL and Redis for tests: env URLs, else throwaway servers, else a loud skip."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import pytest

REQUIRE = os.environ.get("GATEWAYZ_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip loudly, or fail when CI demands real services."""
    message = f"SERVICES UNAVAILABLE: {reason}"
    if REQUIRE:
        pytest.fail(message + " (GATEWAYZ_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Throwaway:
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    stops: list[list[str]] = field(default_factory=list)

    def close(self) -> None:
        for cmd in self.stops:
            subprocess.run(cmd, capture_output=True, check=False)
        for p in self.processes:
            p.terminate()
            p.wait(10)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def start_redis(t: Throwaway) -> str | None:
    exe = shutil.which("redis-server")
    if not exe:
        return None
    port = free_port()
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.processes.append(p)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    return None


def start_postgres(t: Throwaway) -> str | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl or os.geteuid() == 0:
        return None
    d = tempfile.mkdtemp(prefix="gwpg-")
    t.dirs.append(d)
    port = free_port()
    subprocess.run([initdb, "-D", d, "-U", "postgres", "-A", "trust"], check=True, capture_output=True)
    subprocess.run([pg_ctl, "-D", d, "-o", f"-p {port} -k {d} -h 127.0.0.1", "-w", "start"],
                   check=True, capture_output=True)
    t.stops.append([pg_ctl, "-D", d, "-m", "immediate", "stop"])
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
