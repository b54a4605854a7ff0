"""Sampling the gateway worker with py-spy while it is under load, and summarising where it spends
its time (self time per leaf frame, inclusive time per frame) from py-spy's raw collapsed stacks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME_LINE = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, duration_s: float, out: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(max(int(duration_s), 1)), "--rate", str(rate),
           "--format", "raw", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frame(name: str) -> str:
    """'handle (adapters/http/x.py:42)' -> 'handle (adapters/http/x.py)': group a function's lines."""
    return _FRAME_LINE.sub(")", name)


# A granian worker is forked from `gatewayz serve`, so every stack starts with the parent's frames
# down to the function that enters granian's Rust server; what runs above it is the request work.
TRUNK_END = ("_spawn_asgi_lifespan_worker", "_spawn_asgi_worker", "_spawn_rsgi_worker", "_spawn_wsgi_worker")
NATIVE = "[native: granian's Rust server, the event loop, syscalls]"
PROJECT = ("adapters/", "domain/", "gatewayz/", "ports/")
_FILE = re.compile(r"\((?P<file>[^()]*)\)$")


def _cut_trunk(frames: list[str]) -> list[str]:
    for i in range(len(frames) - 1, -1, -1):
        if any(marker in frames[i] for marker in TRUNK_END):
            return frames[i + 1:] or [NATIVE]
    return frames


def package(frame: str) -> str:
    """The package a frame's file belongs to: 'adapters/redis/x.py' -> 'adapters.redis',
    'asyncpg/connection.py' -> 'asyncpg', 'asyncio/streams.py' -> 'asyncio'."""
    if frame == NATIVE:
        return "native"
    m = _FILE.search(frame)
    if not m:
        return "?"
    parts = m["file"].split("/")
    if parts[0] in ("adapters", "domain") and len(parts) > 2:
        return f"{parts[0]}.{parts[1]}"
    return parts[0].removesuffix(".py") if len(parts) > 1 else "stdlib"


@dataclass(frozen=True, slots=True)
class Profile:
    samples: int
    self_top: list[tuple[str, int]]
    project_top: list[tuple[str, int]]  # inclusive, the gateway's own functions
    packages: list[tuple[str, int]]  # inclusive, by package

    def lines(self, limit: int = 15) -> list[str]:
        def pct(n: int) -> str:
            return f"{n / self.samples:6.1%}"

        out = [f"py-spy: {self.samples} busy samples of the worker", "  self time (leaf frames):"]
        out += [f"    {pct(n)}  {name}" for name, n in self.self_top[:limit]]
        out.append("  inclusive time, by package:")
        out += [f"    {pct(n)}  {name}" for name, n in self.packages[:limit]]
        out.append("  inclusive time, gateway functions:")
        out += [f"    {pct(n)}  {name}" for name, n in self.project_top[:limit]]
        return out

    def as_dict(self, limit: int = 30) -> dict[str, object]:
        def rows(items: list[tuple[str, int]]) -> list[dict[str, object]]:
            return [{"frame": k, "pct": round(100 * v / self.samples, 2)} for k, v in items[:limit]]

        return {"samples": self.samples, "self": rows(self.self_top), "by_package": rows(self.packages),
                "gateway_functions": rows(self.project_top)}


def summarize(raw: str) -> Profile:
    """Collapsed stacks ('outer;...;leaf count' per line) -> shares of self time per function and of
    inclusive time per package and per gateway function."""
    own: Counter[str] = Counter()
    project: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        count = int(m["count"])
        frames = _cut_trunk([_frame(f) for f in m["stack"].split(";") if f])
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            if _FILE.search(name) and _FILE.search(name)["file"].startswith(PROJECT):  # type: ignore[index]
                project[name] += count
        for pkg in {package(f) for f in frames}:
            packages[pkg] += count
    return Profile(samples=max(total, 1), self_top=own.most_common(), project_top=project.most_common(),
                   packages=packages.most_common())
