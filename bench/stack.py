"""The system under test, as processes: fake upstreams, a fresh PostgreSQL database, a Redis prefix,
the catalog, a funded user and `gatewayz serve --workers 1`. Everything started here is torn down
by `Stack.close()`, which is safe to call twice and runs on error and Ctrl-C."""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
STARTUP_S = 60.0
MODEL = "bench/echo"  # zero-delay upstream
SLOW_MODEL = "bench/echo-20ms"  # 20 ms before the response
STREAM_MODEL = "bench/stream"  # 64 chunks paced 20 ms apart
STREAM_CHUNKS = 64
PACING_MS = 20.0
DELAY_MS = 20.0
PRICE_IN, PRICE_OUT = "0.10", "0.20"  # USD per million tokens

# Limits far above the offered load: the limiter still runs its Redis script on every request
# (the governance cost is measured), it just never says no.
GENEROUS_LIMITS = {
    "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000000",
    "RATE_LIMIT_REQUESTS_PER_HOUR": "1000000000",
    "RATE_LIMIT_REQUESTS_PER_DAY": "1000000000",
    "RATE_LIMIT_TOKENS_PER_MINUTE": "1000000000000",
    "RATE_LIMIT_TOKENS_PER_HOUR": "1000000000000",
    "RATE_LIMIT_TOKENS_PER_DAY": "1000000000000",
    "RATE_LIMIT_CONCURRENT_REQUESTS": "100000",
    # The per-process gate (default 200 in flight) would queue the streaming ramp's 500+ streams.
    "CONCURRENCY_LIMIT": "2000",
    "CONCURRENCY_QUEUE_SIZE": "2000",
}


class StackError(RuntimeError):
    pass


def database_server() -> str:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the default local server as the first of
    `postgres`, `root` or the current user that may create databases: the tests' discovery
    (tests/services.py), without its throwaway servers (a benchmark measures a real one)."""
    if url := os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        return url
    from tests.services import local_postgres

    return local_postgres()[0] or DEFAULT_DATABASE_SERVER


def redis_server() -> str:
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, grace_s: float = 15.0) -> dict[str, float | bool]:
        """SIGTERM (graceful: the gateway flushes its write-behind), then SIGKILL its whole group.
        Returns how long the graceful stop took and whether it had to be forced."""
        started, forced = time.monotonic(), False
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                forced = True
        stopped_s = time.monotonic() - started
        try:  # granian workers and anything else left in the process group
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        return {"stop_s": round(stopped_s, 2), "forced": forced}


def _cli_env(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX")}
    env.update(base)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@dataclass
class Stack:
    """Owns every process and resource of one run. Use as a context manager or call close()."""

    quiet: bool = False
    db_server: str = field(default_factory=database_server)
    redis_url: str = field(default_factory=redis_server)
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    procs: list[Proc] = field(default_factory=list)
    fakes: dict[str, Proc] = field(default_factory=dict)
    gateway: Proc | None = None
    api_key: str = ""
    database_name: str = ""
    database_created: bool = False
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gatewayz-bench-")))
    failed: bool = False

    # ---------------------------------------------------------------- names

    @property
    def redis_prefix(self) -> str:
        return f"gatewayz_bench_{self.run_id}:"

    @property
    def database_url(self) -> str:
        return f"{self.db_server.rsplit('/', 1)[0]}/{self.database_name}"

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.failed = self.failed or (isinstance(kind, type) and not issubclass(kind, KeyboardInterrupt))
        self.close()

    def start(self) -> None:
        self.say(f"bench run {self.run_id}: logs in {self.logs}")
        self.fakes["zero"] = self._start_fake("fake-zero", [])
        self.fakes["slow"] = self._start_fake("fake-20ms", ["--delay-ms", str(DELAY_MS)])
        self.fakes["stream"] = self._start_fake(
            "fake-stream", ["--chunk-delay-ms", str(PACING_MS), "--chunks", str(STREAM_CHUNKS)])
        self._create_database()
        env = self.gateway_env()
        self._cli("migrate", ["migrate"], env)
        catalog = self.logs / "catalog.yaml"
        catalog.write_text(self.catalog_yaml())
        self._cli("catalog", ["catalog", "load", str(catalog), "--json"], env)
        out = self._cli("user", ["users", "create", "--email", f"bench-{self.run_id}@example.com",
                                 "--credits", "1000000", "--json"], env)
        self.api_key = json.loads(out.strip().splitlines()[-1])["api_key"]
        self._start_gateway(env)

    def close(self) -> None:
        """Stop every process, drop the database, delete the Redis keys. Idempotent; a second
        Ctrl-C while it runs is ignored, so cleanup always finishes."""
        if threading.current_thread() is not threading.main_thread():
            self._close()
            return
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._close()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        if self.database_created:
            try:
                _admin_sql(self.db_server, f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
                self.database_created = False
            except Exception as exc:
                print(f"warning: could not drop database {self.database_name}: {exc}", file=sys.stderr)
        try:
            _delete_redis_prefix(self.redis_url, self.redis_prefix)
        except Exception as exc:
            print(f"warning: could not delete Redis keys {self.redis_prefix}*: {exc}", file=sys.stderr)
        if self.failed:
            print(f"logs kept in {self.logs}", file=sys.stderr)
        else:
            shutil.rmtree(self.logs, ignore_errors=True)

    # ---------------------------------------------------------------- configuration

    def gateway_env(self) -> dict[str, str]:
        return _cli_env({
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": self.redis_prefix,
            "GATEWAYZ_KEY_SECRET": f"bench-{self.run_id}-{secrets.token_hex(16)}",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "BENCH_API_KEY": "x",
            **GENEROUS_LIMITS,
        })

    def catalog_yaml(self) -> str:
        lines = ["providers:"]
        for slug, fake in (("bench", "zero"), ("bench-slow", "slow"), ("bench-stream", "stream")):
            lines += [f"  - slug: {slug}", f"    name: Bench {fake}", "    kind: openai",
                      f"    base_url: {self.fakes[fake].url}/v1", "    api_key_env: BENCH_API_KEY"]
        lines.append("models:")
        for model, slug in ((MODEL, "bench"), (SLOW_MODEL, "bench-slow"), (STREAM_MODEL, "bench-stream")):
            native = model.split("/", 1)[1]
            lines += [f"  - id: {model}", f"    name: {model}", "    context_length: 32000",
                      "    max_output_tokens: 4096", "    offers:",
                      f"      - {{provider: {slug}, native_id: {native}, "
                      f"input_per_mtok: {PRICE_IN}, output_per_mtok: {PRICE_OUT}}}"]
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- processes

    def _spawn(self, name: str, args: list[str], env: dict[str, str], stdout: int | None = None) -> Proc:
        log = self.logs / f"{name}.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=stdout or sink,
                                     stderr=sink, start_new_session=True)
        proc = Proc(name=name, popen=popen, log=log)
        self.procs.append(proc)
        return proc

    def _start_fake(self, name: str, extra: list[str]) -> Proc:
        proc = self._spawn(name, ["-m", "tests.fakes.upstream", "--port", "0", "--max-recorded", "1", *extra],
                           _cli_env({}), stdout=subprocess.PIPE)
        assert proc.popen.stdout is not None
        fd, line, deadline = proc.popen.stdout.fileno(), b"", time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and b"\n" not in line:
            if select.select([fd], [], [], 0.1)[0]:
                data = os.read(fd, 4096)
                if not data:
                    break
                line += data
        text = line.decode(errors="replace").split("\n")[0].strip()
        if not text.startswith("fake upstream listening on "):
            raise StackError(f"{name} did not start: {text!r}\n{proc.tail()}")
        proc.url = text.rsplit(" ", 1)[1]
        self.say(f"  {name}: {proc.url} (pid {proc.pid})")
        return proc

    def _cli(self, name: str, args: list[str], env: dict[str, str]) -> str:
        done = subprocess.run([sys.executable, "-m", "gatewayz", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        (self.logs / f"cli-{name}.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise StackError(f"gatewayz {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    def _start_gateway(self, env: dict[str, str]) -> None:
        port = free_port()
        proc = self._spawn("gateway", ["-m", "gatewayz", "serve", "--host", "127.0.0.1", "--port", str(port),
                                       "--workers", "1"], env)
        proc.url = f"http://127.0.0.1:{port}"
        self.gateway = proc
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise StackError(f"gateway exited with {proc.popen.returncode}:\n{proc.tail()}")
            try:
                with urllib.request.urlopen(proc.url + "/health", timeout=1) as resp:
                    if resp.status == 200:
                        self.say(f"  gateway: {proc.url} (pid {proc.pid}, worker {self.worker_pid()})")
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise StackError(f"gateway did not answer /health within {STARTUP_S:.0f}s:\n{proc.tail()}")

    def _create_database(self) -> None:
        self.database_name = f"gatewayz_bench_{self.run_id}"
        _admin_sql(self.db_server, f'CREATE DATABASE "{self.database_name}"')
        self.database_created = True
        self.say(f"  database: {self.database_name}, redis prefix {self.redis_prefix}")

    def stop_gateway(self, grace_s: float) -> dict[str, object]:
        """Stop the gateway gracefully (it flushes its write-behind), then count what governance
        wrote: request-log rows and usage ledger rows. A usage row missing for a logged request is
        a settlement lost at shutdown."""
        if self.gateway is None:
            return {}
        stop = self.gateway.stop(grace_s)
        self.gateway = None
        if not self.database_created:
            return {"stop": stop}
        try:
            requests, usage, spent = _query(self.database_url, GOVERNANCE_SQL)
        except Exception as exc:
            return {"stop": stop, "error": f"{type(exc).__name__}: {exc}"}
        return {"stop": stop, "request_rows": requests, "usage_rows": usage, "spent_usd": str(spent),
                "settlements_missing": int(requests) - int(usage)}  # type: ignore[call-overload]

    async def written_rows(self) -> tuple[int, int]:
        """(request-log rows, usage ledger rows) written so far: the write-behinds' progress."""
        rows = await query(self.database_url, GOVERNANCE_SQL[:2])
        return int(rows[0]), int(rows[1])  # type: ignore[call-overload]

    # ---------------------------------------------------------------- the worker process

    def worker_pid(self) -> int:
        """The granian worker serving requests: the descendant of `gatewayz serve` that has used the
        most CPU (the parent only supervises; helpers such as a resource tracker stay idle)."""
        assert self.gateway is not None
        candidates = [p for p in descendants(self.gateway.pid) if "resource_tracker" not in cmdline(p)]
        if not candidates:
            return self.gateway.pid  # a server that serves in-process
        return max(candidates, key=cpu_ticks)


# -------------------------------------------------------------------- /proc helpers


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += children(child)
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return -1


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    return max(cpu_ticks(pid), 0) / CLOCK_TICKS


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from the first line of /proc/stat."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise StackError(f"no VmRSS for pid {pid}")


# -------------------------------------------------------------------- PostgreSQL and Redis


def _admin_sql(server_url: str, statement: str) -> None:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


GOVERNANCE_SQL = [
    "SELECT count(*) FROM chat_completion_requests",
    "SELECT count(*) FROM credit_transactions WHERE transaction_type = 'api_usage'",
    "SELECT coalesce(-sum(amount), 0) FROM credit_transactions WHERE transaction_type = 'api_usage'",
]


async def query(url: str, statements: list[str]) -> list[object]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [(await conn.execute(text(s))).scalar() for s in statements]
    finally:
        await engine.dispose()


def _query(url: str, statements: list[str]) -> list[object]:
    import asyncio

    return asyncio.run(query(url, statements))


def _delete_redis_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()
