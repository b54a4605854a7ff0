"""The end-to-end stack: the fake upstream and `gatewayz serve` as real processes on a fresh
PostgreSQL database and Redis, with the test catalog loaded and users made through the CLI."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anthropic
import httpx
import openai
import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 30.0
# ------------------------------------------------------------------ processes


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL to the process group it leads if it lingers."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self.popen.stdout is not None:  # the fake's announcement pipe
            self.popen.stdout.close()


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path, stdout: int | IO[bytes] | None = None
          ) -> Process:
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=stdout or sink,
                                 stderr=sink, start_new_session=True)
    return Process(name=name, popen=popen, log=log)


def start_fake(logs: Path) -> Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fake = spawn("fake-upstream", ["-m", "tests.fakes.upstream", "--port", "0"], env, logs,
                 stdout=subprocess.PIPE)
    assert fake.popen.stdout is not None
    deadline = time.monotonic() + STARTUP_S
    fd, line = fake.popen.stdout.fileno(), b""
    while time.monotonic() < deadline and b"\n" not in line:
        if select.select([fd], [], [], 0.1)[0]:
            data = os.read(fd, 4096)  # unbuffered: a buffered read would hide bytes from select()
            if not data:
                break
            line += data
    text = line.decode().split("\n")[0].strip()
    if not text.startswith("fake upstream listening on "):
        fake.stop()
        pytest.fail(f"fake upstream did not start: {text!r} {fake.output()}")
    fake.url = text.rsplit(" ", 1)[1]
    return fake


def start_gateway(name: str, env: dict[str, str], logs: Path) -> Process:
    port = free_port()
    gateway = spawn(name, ["-m", "gatewayz", "serve", "--host", "127.0.0.1", "--port", str(port)], env, logs)
    gateway.url = f"http://127.0.0.1:{port}"
    return gateway


def wait_healthy(gateway: Process) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if gateway.popen.poll() is not None:
            pytest.fail(f"{gateway.name} exited with {gateway.popen.returncode}: {gateway.output()}")
        try:
            if httpx.get(gateway.url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    gateway.stop()
    pytest.fail(f"{gateway.name} did not answer /health within {STARTUP_S}s: {gateway.output()}")


def wait_for_models(gateway: Process, count: int) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if len(httpx.get(gateway.url + "/v1/models", timeout=5).json()["data"]) == count:
            return
        time.sleep(0.05)
    pytest.fail(f"{gateway.name} never listed {count} models")


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "gatewayz", *args, "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@dataclass
class Stack:
    fake: str
    gateway: str
    key: str
    admin_key: str
    env: dict[str, str]
    logs: Path
    processes: list[Process] = field(default_factory=list)

    def script(self, model: str, **script: Any) -> None:
        httpx.post(self.fake + "/_fake/script", json={"model": model, **script}, timeout=5).raise_for_status()

    def upstream_requests(self) -> list[dict[str, Any]]:
        return httpx.get(self.fake + "/_fake/requests", timeout=5).json()  # type: ignore[no-any-return]

    def count(self, native: str) -> int:
        return sum(1 for r in self.upstream_requests() if r["json"].get("model") == native)

    def openai(self, key: str | None = None, url: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=(url or self.gateway) + "/v1", api_key=key or self.key, max_retries=0,
                             timeout=20)

    def anthropic(self, key: str | None = None) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.gateway, api_key=key or self.key, max_retries=0, timeout=20)
