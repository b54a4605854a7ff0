"""Targets from the performance issue, their evaluation, the printed table, latest.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import ROOT

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Target:
    metric: str
    unit: str
    target: str  # as printed
    value: Callable[[dict[str, Any]], float | None]
    ok: Callable[[float], bool] | None  # None: shown for context, not judged


def _get(*path: str) -> Callable[[dict[str, Any]], float | None]:
    def read(results: dict[str, Any]) -> float | None:
        node: Any = results
        for key in path:
            if not isinstance(node, dict) or node.get(key) is None:
                return None
            node = node[key]
        return float(node)
    return read


def _abs(getter: Callable[[dict[str, Any]], float | None]) -> Callable[[dict[str, Any]], float | None]:
    def read(results: dict[str, Any]) -> float | None:
        v = getter(results)
        return None if v is None else abs(v)
    return read


def _memory_label(results: dict[str, Any]) -> str:
    counts = results.get("memory", {}).get("after_requests", [])
    return f"{counts[0]:,}->{counts[-1]:,}" if len(counts) >= 2 else "1k->100k"


TARGETS: tuple[Target, ...] = (
    Target("added latency p50 (c=1)", "ms", "<= 1", _get("latency", "added_p50_ms"), lambda v: v <= 1.0),
    Target("added latency p99 (c=1)", "ms", "<= 3", _get("latency", "added_p99_ms"), lambda v: v <= 3.0),
    Target("direct latency p50 (c=1)", "ms", "-", _get("latency", "direct_ms", "p50"), None),
    Target("overhead header p50", "ms", "-", _get("latency", "overhead_header_ms", "p50"), None),
    Target("|header - added| at p50", "ms", "<= 0.5", _abs(_get("latency", "header_gap_p50_ms")),
           lambda v: v <= 0.5),
    Target("|header - added| at p99", "ms", "<= 0.5", _abs(_get("latency", "header_gap_p99_ms")),
           lambda v: v <= 0.5),
    Target("throughput, p99 < 1 s (20 ms upstream)", "req/s", ">= 1500", _get("throughput", "best_rps"),
           lambda v: v >= 1500),
    Target("  direct to the fake, same connections", "req/s", "-", _get("throughput", "direct_at_best", "rps"),
           None),
    Target("added TTFT p50", "ms", "-", _get("streaming", "added_ttft_p50_ms"), None),
    Target("added TTFT p99", "ms", "<= 3", _get("streaming", "added_ttft_p99_ms"), lambda v: v <= 3.0),
    Target("concurrent streams without a stall", "streams", ">= 500", _get("streaming", "max_streams_no_stall"),
           lambda v: v >= 500),
    Target("  direct to the fake, up to the last level run", "streams", "-",
           _get("streaming", "direct_max_streams_no_stall"), None),
    Target("worker RSS (peak of milestones)", "MB", "<= 150", _get("memory", "peak_rss_mb"), lambda v: v <= 150),
    Target("RSS growth", "%", "< 10", _get("memory", "growth_pct"), lambda v: v < 10),
    Target("settlement backlog when the load stopped", "rows", "-",
           _get("memory", "settlements", "backlog_when_load_stopped"), None),
    Target("settlement write-behind drain rate", "rows/s", "-", _get("memory", "settlements", "drain_rows_per_s"),
           None),
    Target("settlements missing after graceful stop", "rows", "0", _get("governance", "settlements_missing"),
           lambda v: v <= 0),
)


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in TARGETS:
        value = t.value(results)
        metric = t.metric if t.metric != "RSS growth" else f"RSS growth {_memory_label(results)}"
        ok = None if value is None or t.ok is None else bool(t.ok(value))
        rows.append({"metric": metric, "unit": t.unit, "measured": value, "target": t.target, "ok": ok,
                     "judged": t.ok is not None})
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit in ("req/s", "streams", "rows", "rows/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def table(rows: list[dict[str, Any]], quick: bool) -> str:
    cells = [("metric", "measured", "target", "ok")]
    for r in rows:
        ok = "" if not r["judged"] else ("-" if r["ok"] is None else ("yes" if r["ok"] else "NO"))
        if quick and r["judged"] and r["ok"] is not None:
            ok += " (quick)"
        cells.append((r["metric"], _fmt(r["measured"], r["unit"]), r["target"], ok))
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(4)).rstrip() for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------- context


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _first(path: str, prefix: str) -> str:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_total": _first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def git_info() -> dict[str, Any]:
    return {"commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain"))}


def write(payload: dict[str, Any], path: Path | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
