"""wrk, driven by a generated Lua script: POST a JSON body with an Authorization header, and report
the summary as one JSON line (latency percentiles from wrk's full histogram, not its text output)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.load import Target

MARK = "WRKJSON "

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_script(t: Target) -> str:
    body = t.body.decode()
    if "]]" in body:
        raise ValueError("the body must not contain ']]' (Lua long string)")
    lines = ['wrk.method = "POST"', f"wrk.body = [[{body}]]"]
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in t.headers.items()]
    return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True, slots=True)
class WrkResult:
    connections: int
    requests: int  # completed responses, any status
    errors: int  # non-2xx/3xx responses plus socket errors and timeouts
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def ok_requests(self) -> int:
        return self.requests - self.errors

    @property
    def rps(self) -> float:
        """Successful responses per second."""
        return max(self.ok_requests, 0) / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"connections": self.connections, "requests": self.requests, "errors": self.errors,
                "duration_s": round(self.duration_s, 3), "rps": round(self.rps, 1),
                "p50_ms": round(self.p50_ms, 3), "p90_ms": round(self.p90_ms, 3),
                "p99_ms": round(self.p99_ms, 3), "max_ms": round(self.max_ms, 3),
                "mean_ms": round(self.mean_ms, 3)}


def parse(output: str, connections: int) -> WrkResult:
    line = next((ln for ln in output.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
    d = json.loads(line[len(MARK):])
    # status errors are responses already counted in `requests`; socket errors are not
    errors = d["status"] + d["connect"] + d["read"] + d["write"] + d["timeout"]
    return WrkResult(connections=connections, requests=d["requests"], errors=min(errors, d["requests"]),
                     duration_s=d["duration_us"] / 1e6, p50_ms=d["p50_us"] / 1000, p90_ms=d["p90_us"] / 1000,
                     p99_ms=d["p99_us"] / 1000, max_ms=d["max_us"] / 1000, mean_ms=d["mean_us"] / 1000)


_running: set[subprocess.Popen[str]] = set()


def stop_all() -> None:
    """Kill the wrk runs in progress (on Ctrl-C: the thread waiting for one would otherwise wait)."""
    for proc in list(_running):
        if proc.poll() is None:
            proc.kill()


def run(t: Target, connections: int, duration_s: float, threads: int = 2, timeout_s: float = 10.0) -> WrkResult:
    """One wrk run (blocking). Threads never exceed connections (wrk refuses that)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua_script(t))
        script = Path(f.name)
    cmd = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections),
           "-d", f"{max(round(duration_s), 1)}s", "--timeout", f"{timeout_s:.0f}s", "-s", str(script), t.url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _running.add(proc)
    try:
        out, err = proc.communicate(timeout=duration_s + timeout_s + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    finally:
        _running.discard(proc)
        script.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err[-2000:]}")
    return parse(out, connections)
