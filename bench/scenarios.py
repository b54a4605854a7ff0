"""The four measurements, each against the same fake upstream called directly in the same run:
added latency, throughput, streaming (TTFT and stall-free concurrency), worker memory."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load, profile, stats, wrk
from bench.load import Target
from bench.stack import (
    MODEL,
    PACING_MS,
    SLOW_MODEL,
    STREAM_CHUNKS,
    STREAM_MODEL,
    Stack,
    cpu_seconds,
    machine_cpu,
    rss_mb,
)

PHASES = ("latency", "throughput", "streaming", "memory")
P99_LIMIT_MS = 1000.0
PROFILE_FILE = Path(__file__).resolve().parent / "results" / "profile-throughput.txt"


@dataclass(frozen=True, slots=True)
class Plan:
    """How much of each measurement to do; `quick` is a smoke run under a minute."""

    quick: bool = False
    phases: tuple[str, ...] = PHASES
    profile: bool = False
    memory_first: int = 1_000
    memory_total: int = 100_000
    latency_warmup: int = 200
    latency_n: int = 2_000
    sweep: tuple[int, ...] = (32, 64, 128, 256)
    sweep_s: float = 10.0
    ttft_clients: int = 8  # per path: 8 streams through the gateway and 8 direct at any time
    ttft_s: float = 15.0
    ramp: tuple[int, ...] = (25, 50, 100, 250, 500, 750)  # stops at the first level that stalls
    ramp_stagger_s: float = 1.0
    ramp_attempts: int = 2  # a level counts as stall-free when one of its attempts is
    profile_s: float = 10.0
    budget_s: float = 250.0  # load and drain end here, so that `make bench` ends within 5 minutes
    drain_s: float = 20.0  # of the budget, kept for watching the settlement backlog drain
    pause_s: float = 15.0  # longest wait for the settlement backlog to drain before streaming
    stop_grace_s: float = 30.0  # SIGTERM -> SIGKILL: time for the gateway's shutdown flush

    @classmethod
    def make(cls, quick: bool, phases: tuple[str, ...], with_profile: bool) -> Plan:
        if not quick:
            return cls(phases=phases, profile=with_profile)
        return cls(quick=True, phases=phases, profile=with_profile, memory_total=4_000, latency_warmup=50,
                   latency_n=300, sweep=(32, 128), sweep_s=3.0, ttft_clients=4, ttft_s=4.0, ramp=(50, 100),
                   ramp_stagger_s=0.5, profile_s=3.0, budget_s=45.0, drain_s=5.0, stop_grace_s=10.0,
                   pause_s=3.0)


def chat(model: str, *, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "Say hello"}],
                            "max_tokens": 100 if stream else 16}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass
class Bench:
    """One run's state: the stack, the sessions, every figure measured so far."""

    stack: Stack
    plan: Plan
    results: dict[str, Any] = field(default_factory=dict)
    served: int = 0  # responses the gateway worker has sent (any status), for the memory milestones
    deadline: float = float("inf")  # time.monotonic() by which the memory top-up must end
    say: Any = print
    gs: Any = field(default=None, init=False)  # aiohttp session to the gateway
    ds: Any = field(default=None, init=False)  # aiohttp session to the fakes

    def gw(self, model: str, stream: bool = False) -> Target:
        return load.target(self.stack.gateway.url, chat(model, stream=stream), self.stack.api_key)  # type: ignore[union-attr]

    def direct(self, fake: str, model: str, stream: bool = False) -> Target:
        return load.target(self.stack.fakes[fake].url, chat(model, stream=stream), "x")

    # ------------------------------------------------------------------ run

    async def run(self) -> dict[str, Any]:
        async with load.session() as gw_session, load.session() as direct_session:
            self.gs, self.ds = gw_session, direct_session
            await self.memory_begin()
            if "latency" in self.plan.phases:
                await self.latency()
            if "throughput" in self.plan.phases:
                await self.throughput()
            if "streaming" in self.plan.phases:
                await self._settle_pause("streaming")
                await self.streaming()
            if "memory" in self.plan.phases:
                await self.memory_end()
        return self.results

    async def _settle_pause(self, phase: str) -> None:
        """Before a phase that is sensitive to pauses of the worker's event loop, give the settlement
        write-behind up to `pause_s` to catch up with what earlier phases left behind (a backlog of
        thousands of charges in the worker slows it down), and record the backlog either way."""
        start = time.monotonic()
        try:
            logged, written = await self.stack.written_rows()
            before = max(logged - written, 0)
            while logged - written > 0 and time.monotonic() - start < self.plan.pause_s:
                await asyncio.sleep(1.0)
                logged, written = await self.stack.written_rows()
        except Exception as exc:
            self.results.setdefault("backlog_before", {})[phase] = {"error": f"{type(exc).__name__}: {exc}"}
            return
        waited, after = time.monotonic() - start, max(logged - written, 0)
        self.results.setdefault("backlog_before", {})[phase] = {
            "settlement_backlog": before, "waited_s": round(waited, 1), "backlog_after_wait": after}
        if before:
            self.say(f"{phase}: settlement backlog {before} rows; {after} after waiting {waited:.0f}s")

    # ------------------------------------------------------------------ 4. memory (first milestone)

    async def memory_begin(self) -> None:
        """The first requests a fresh worker serves are the warm-up of every later phase, and the
        first memory milestone: RSS after exactly `memory_first` requests."""
        n = self.plan.memory_first
        self.say(f"warm-up: {n} sequential requests through the gateway")
        timed = await load.sequential(self.gs, self.gw(MODEL), n)
        self.served += n
        if timed.errors:
            raise load.LoadError(f"warm-up: {timed.errors} of {n} requests failed {timed.statuses}: "
                                 f"{self.stack.gateway.tail(1500) if self.stack.gateway else ''}")
        await asyncio.sleep(0.5)  # let the write-behind flush what the warm-up queued
        pid = self.stack.worker_pid()
        self.results["memory"] = {"worker_pid": pid, "after_requests": [self.served],
                                  "rss_mb": [round(rss_mb(pid), 1)]}

    # ------------------------------------------------------------------ 1. added latency

    async def latency(self) -> None:
        p = self.plan
        gw, direct = (self.gs, self.gw(MODEL)), (self.ds, self.direct("zero", MODEL))
        self.say(f"latency: {p.latency_warmup} + {p.latency_n} sequential requests per path, interleaved")
        await load.interleaved(gw, direct, p.latency_warmup)
        pid = self.stack.worker_pid()
        cpu0 = cpu_seconds(pid)
        through, straight = await load.interleaved(gw, direct, p.latency_n)
        cpu = cpu_seconds(pid) - cpu0
        self.served += p.latency_warmup + p.latency_n
        if through.errors or straight.errors or not through.latencies:
            raise load.LoadError(f"latency: gateway errors {through.statuses}, direct errors {straight.statuses}")
        g, d = stats.summarize(through.latencies), stats.summarize(straight.latencies)
        out: dict[str, Any] = {
            "requests_per_path": p.latency_n, "gateway_ms": g.as_dict(), "direct_ms": d.as_dict(),
            "added_p50_ms": round(stats.added(through.latencies, straight.latencies, 50), 3),
            "added_p99_ms": round(stats.added(through.latencies, straight.latencies, 99), 3),
            "added_mean_ms": round(g.mean - d.mean, 3),
            "worker_cpu_ms_per_request": round(1000 * cpu / p.latency_n, 3),
        }
        if through.overheads:
            h = stats.summarize(through.overheads)
            out["overhead_header_ms"] = h.as_dict()
            out["header_gap_p50_ms"] = round(h.p50 - out["added_p50_ms"], 3)
            out["header_gap_p99_ms"] = round(h.p99 - out["added_p99_ms"], 3)
        else:
            out["overhead_header_ms"] = None
        self.results["latency"] = out
        self.say(f"  gateway p50 {g.p50:.2f} / p99 {g.p99:.2f} ms, direct p50 {d.p50:.2f} / p99 {d.p99:.2f} ms; "
                 f"worker CPU {out['worker_cpu_ms_per_request']} ms/request")

    # ------------------------------------------------------------------ 2. throughput

    async def throughput(self) -> None:
        p = self.plan
        gw, direct = self.gw(SLOW_MODEL), self.direct("slow", SLOW_MODEL)
        generator = "wrk" if wrk.available() else "python-aiohttp"
        self.say(f"throughput: {generator}, 20 ms upstream, connections {', '.join(map(str, p.sweep))}, "
                 f"{p.sweep_s:.0f}s each")
        await self._load(gw, 64, 2.0 if not p.quick else 1.0)  # warm-up of the 20 ms path and its pool
        levels: list[dict[str, Any]] = []
        for c in p.sweep:
            r = await self._load(gw, c, p.sweep_s)
            levels.append(r)
            self.say(f"  c={c:<4} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms"
                     f"  errors {r['errors']}  worker CPU {r['server_cpu_pct']}% "
                     f"({r['server_cpu_ms_per_request']} ms/request), machine busy {r['machine_busy_pct']}%")
            if r["p99_ms"] >= P99_LIMIT_MS:
                break  # more connections only queue longer
        best_rps = stats.best_under([(lv["rps"], lv["p99_ms"]) for lv in levels if lv["rps"] > 0], P99_LIMIT_MS)
        best = next((lv for lv in levels if lv["rps"] == best_rps), None) if best_rps is not None else None
        best_c = best["connections"] if best else p.sweep[0]
        baseline = await self._load(direct, best_c, p.sweep_s, count=False)
        self.say(f"  direct to the fake at c={best_c}: {baseline['rps']:.1f} req/s, p99 {baseline['p99_ms']:.1f} ms, "
                 f"fake CPU {baseline['server_cpu_pct']}%")
        self.results["throughput"] = {
            "generator": generator, "upstream_delay_ms": 20, "levels": levels,
            "best_rps": best["rps"] if best else 0.0, "best_connections": best["connections"] if best else None,
            "best_p99_ms": best["p99_ms"] if best else None, "direct_at_best": baseline,
        }
        if p.profile:
            await self._profile(gw, best_c)

    async def _load(self, t: Target, connections: int, duration_s: float, count: bool = True) -> dict[str, Any]:
        """One load run (wrk, else the Python generator) with the CPU the serving process used:
        the gateway worker when `count`, else the fake being called directly."""
        pid = self.stack.worker_pid() if count else self._fake_pid(t)
        cpu0, (busy0, total0) = cpu_seconds(pid), machine_cpu()
        if wrk.available():
            r = (await asyncio.to_thread(wrk.run, t, connections, duration_s)).as_dict()
            in_flight = connections  # wrk stops with one request in flight per connection: served too
        else:
            in_flight = 0
            session = self.gs if count else self.ds
            timed, elapsed = await load.closed_loop(session, t, connections, duration_s)
            s = stats.summarize(timed.latencies) if timed.latencies else None
            r = {"connections": connections, "requests": len(timed.latencies) + timed.errors,
                 "errors": timed.errors, "duration_s": round(elapsed, 3),
                 "rps": round(len(timed.latencies) / elapsed, 1) if elapsed else 0.0,
                 "p50_ms": round(s.p50, 3) if s else 0.0, "p90_ms": round(s.p90, 3) if s else 0.0,
                 "p99_ms": round(s.p99, 3) if s else 0.0, "max_ms": round(s.max, 3) if s else 0.0,
                 "mean_ms": round(s.mean, 3) if s else 0.0}
        cpu = cpu_seconds(pid) - cpu0
        busy1, total1 = machine_cpu()
        ok = max(int(r["requests"]) - int(r["errors"]), 0)
        r["server_cpu_pct"] = round(100 * cpu / r["duration_s"], 1) if r["duration_s"] else None
        r["server_cpu_ms_per_request"] = round(1000 * cpu / ok, 3) if ok else None
        r["machine_busy_pct"] = round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None
        if count:
            self.served += int(r["requests"]) + in_flight
        return r

    def _fake_pid(self, t: Target) -> int:
        return next(p.pid for p in self.stack.fakes.values() if t.url.startswith(p.url))

    async def _profile(self, t: Target, connections: int) -> None:
        out = PROFILE_FILE
        pid = self.stack.worker_pid()
        self.say(f"  profiling worker {pid} with py-spy for {self.plan.profile_s:.0f}s at c={connections}")
        try:
            spy = profile.start(pid, self.plan.profile_s, out)
        except RuntimeError as exc:
            self.say(f"  profile skipped: {exc}")
            self.results["profile"] = {"error": str(exc)}
            return
        run = await self._load(t, connections, self.plan.profile_s + 1)
        _, err = await asyncio.to_thread(spy.communicate)
        if spy.returncode != 0 or not out.exists():
            self.results["profile"] = {"error": err.decode(errors="replace")[-500:]}
            self.say(f"  py-spy failed: {err.decode(errors='replace')[-300:]}")
            return
        summary = profile.summarize(out.read_text())
        self.results["profile"] = {"raw_file": str(out.relative_to(out.parents[2])), "load": run,
                                   **summary.as_dict()}
        for line in summary.lines(12):
            self.say("  " + line)

    # ------------------------------------------------------------------ 3. streaming

    async def streaming(self) -> None:
        p = self.plan
        gw, direct = self.gw(STREAM_MODEL, stream=True), self.direct("stream", STREAM_MODEL, stream=True)
        pacing_s = PACING_MS / 1000
        timeout_s = STREAM_CHUNKS * pacing_s * 10 + 10
        self.say(f"streaming: TTFT with {p.ttft_clients} streams per path for {p.ttft_s:.0f}s "
                 f"({STREAM_CHUNKS} chunks at {PACING_MS:.0f} ms)")
        async with load.session() as s:
            await load.stream_once(s, gw)  # warm-up
            through, straight = await load.streams_for(s, [gw, direct], p.ttft_clients, p.ttft_s, timeout_s)
        self.served += len(through) + 1
        g_ok, d_ok = [r for r in through if r.ok], [r for r in straight if r.ok]
        if not g_ok or not d_ok:
            errs = {r.error for r in through + straight if not r.ok}
            raise load.LoadError(f"streaming: no successful stream on a path: {sorted(errs)[:5]}")
        g_ttft, d_ttft = [r.ttft_ms for r in g_ok], [r.ttft_ms for r in d_ok]
        out: dict[str, Any] = {
            "chunks": STREAM_CHUNKS, "pacing_ms": PACING_MS, "stall_gap_ms": 2 * PACING_MS,
            "ttft": {"streams_in_flight_per_path": p.ttft_clients, "gateway_ms": stats.summarize(g_ttft).as_dict(),
                     "direct_ms": stats.summarize(d_ttft).as_dict(),
                     "gateway_failures": len(through) - len(g_ok), "direct_failures": len(straight) - len(d_ok),
                     "gateway_stalled_streams": sum(1 for r in g_ok if stats.stalls(r.arrivals, pacing_s)),
                     "direct_stalled_streams": sum(1 for r in d_ok if stats.stalls(r.arrivals, pacing_s))},
            "added_ttft_p50_ms": round(stats.added(g_ttft, d_ttft, 50), 3),
            "added_ttft_p99_ms": round(stats.added(g_ttft, d_ttft, 99), 3),
        }
        self.say(f"  TTFT gateway p50 {stats.percentile(g_ttft, 50):.2f} / p99 {stats.percentile(g_ttft, 99):.2f} ms,"
                 f" direct p50 {stats.percentile(d_ttft, 50):.2f} / p99 {stats.percentile(d_ttft, 99):.2f} ms"
                 f" ({len(g_ok)} / {len(d_ok)} streams)")
        levels: list[dict[str, Any]] = []
        for n in p.ramp:
            level: dict[str, Any] = {"streams": n, "attempts": []}
            for _ in range(p.ramp_attempts):  # a second try tells a scheduling hiccup from a real limit
                attempt = {name: await self._stream_level(t, n, timeout_s)
                           for name, t in (("direct", direct), ("gateway", gw))}
                level["attempts"].append(attempt)
                self.served += n
                if _bad(attempt["gateway"]) == 0:
                    break
            level["gateway"] = min((a["gateway"] for a in level["attempts"]), key=_bad)
            level["direct"] = min((a["direct"] for a in level["attempts"]), key=_bad)
            level["harness_limited"] = _bad(level["direct"]) > 0  # even the fake called directly stalled
            levels.append(level)
            g, d = level["gateway"], level["direct"]
            tries = len(level["attempts"])
            self.say(f"  {n:4} streams: gateway stalled {g['stalled_streams']}, failed {g['failed']}, "
                     f"max gap {g['max_gap_ms']:.0f} ms, worker CPU {g['server_cpu_pct']}% "
                     f"({g['server_cpu_ms_per_stream']} ms/stream) | direct stalled {d['stalled_streams']}, "
                     f"failed {d['failed']}, max gap {d['max_gap_ms']:.0f} ms"
                     + (f" (best of {tries} tries)" if tries > 1 else ""))
            if _bad(g):
                break
        out["ramp"] = levels
        out["max_streams_no_stall"] = stats.max_clean_level((lv["streams"], _bad(lv["gateway"])) for lv in levels)
        out["direct_max_streams_no_stall"] = stats.max_clean_level((lv["streams"], _bad(lv["direct"]))
                                                                   for lv in levels)
        self.results["streaming"] = out

    async def _stream_level(self, t: Target, n: int, timeout_s: float) -> dict[str, Any]:
        """n concurrent streams on one path, with the CPU the serving process spent on them."""
        pid = self.stack.worker_pid() if t.url.startswith(self.stack.gateway.url) else self._fake_pid(t)  # type: ignore[union-attr]
        async with load.session() as s:
            started, cpu0 = time.perf_counter(), cpu_seconds(pid)
            results = await load.stream_level(s, t, n, self.plan.ramp_stagger_s, timeout_s)
            elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu0
        summary = _stream_level_summary(results, PACING_MS / 1000, elapsed)
        summary["server_cpu_pct"] = round(100 * cpu / elapsed, 1)
        summary["server_cpu_ms_per_stream"] = round(1000 * cpu / max(n, 1), 3)
        return summary

    # ------------------------------------------------------------------ 4. memory (second milestone)

    async def memory_end(self) -> None:
        """Top up to `memory_total` requests with wrk at c=64 on the zero-delay path, within the
        run's time budget: when the gateway is too slow for that, the second milestone is taken
        at the count reached (the table's label shows the real counts). Then watch the settlement
        write-behind catch up: its backlog, how fast it drains, the RSS once it has."""
        total, gw, rate = self.plan.memory_total, self.gw(MODEL), 0.0
        mem = self.results.setdefault("memory", {"after_requests": [], "rss_mb": []})
        load_deadline = self.deadline - self.plan.drain_s
        while (remaining := total - self.served) > 0:
            left = load_deadline - time.monotonic()
            if left < 2:
                self.say(f"memory: time budget spent at {self.served} requests (wanted {total})")
                mem["capped_by_time"] = True
                break
            if not rate:  # a short probe for the zero-delay rate, then size the run from it
                seconds = min(3.0, left)
            else:
                seconds = min(max(remaining / rate * 1.05 + 0.5, 1.0), left)
            self.say(f"memory: {self.served} requests served; {remaining} to go, {seconds:.0f}s at c=64")
            r = await self._load(gw, 64, seconds)
            rate = max(r["rps"], 1.0)
        await asyncio.sleep(1.0)
        pid = self.stack.worker_pid()
        if mem.get("worker_pid") not in (None, pid):
            mem["worker_restarted"] = True  # a different worker: growth would be meaningless
        mem["after_requests"].append(self.served)
        mem["rss_mb"].append(round(rss_mb(pid), 1))
        if len(mem["rss_mb"]) >= 2:
            mem["growth_pct"] = round(stats.growth_pct(mem["rss_mb"][0], mem["rss_mb"][-1]), 2)
        mem["peak_rss_mb"] = max(mem["rss_mb"])
        self.say(f"memory: RSS {mem['rss_mb'][0]} MB after {mem['after_requests'][0]} requests, "
                 f"{mem['rss_mb'][-1]} MB after {mem['after_requests'][-1]}")
        await self._settlement_drain(pid, mem)

    async def _settlement_drain(self, pid: int, mem: dict[str, Any]) -> None:
        """Usage ledger rows are written behind the responses: how far behind the request log
        they are once the load stops, how fast the backlog drains, and the RSS once it has (or
        when it stops making progress, or time runs out)."""
        try:
            logged, written = await self.stack.written_rows()
        except Exception as exc:
            mem["settlements"] = {"error": f"{type(exc).__name__}: {exc}"}
            return
        backlog0, start, first, idle = max(logged - written, 0), time.monotonic(), written, 0
        while logged - written > 0 and time.monotonic() < self.deadline and idle < 3:
            await asyncio.sleep(1.0)
            before = written
            logged, written = await self.stack.written_rows()
            idle = idle + 1 if written == before else 0
        elapsed = time.monotonic() - start
        mem["settlements"] = {
            "backlog_when_load_stopped": backlog0,  # request-log rows without their usage ledger row
            "drain_rows_per_s": round((written - first) / elapsed, 1) if backlog0 and elapsed > 0.5 else None,
            "drain_s": round(elapsed, 1), "backlog_left": max(logged - written, 0),
            "rss_after_drain_mb": round(rss_mb(pid), 1),
        }
        m = mem["settlements"]
        self.say(f"settlements: {backlog0} usage rows behind the request log when the load stopped; "
                 f"{m['backlog_left']} after {elapsed:.0f}s ({m['drain_rows_per_s']} rows/s); "
                 f"RSS then {m['rss_after_drain_mb']} MB")


def _bad(level: dict[str, Any]) -> int:
    """Streams that stalled or failed at one level."""
    return int(level["stalled_streams"]) + int(level["failed"])


def _stream_level_summary(results: list[load.StreamResult], pacing_s: float, elapsed_s: float) -> dict[str, Any]:
    ok = [r for r in results if r.ok]
    all_gaps = [g * 1000 for r in ok for g in stats.gaps(r.arrivals)]
    errors: dict[str, int] = {}
    for r in results:
        if not r.ok:
            errors[r.error[:80]] = errors.get(r.error[:80], 0) + 1
    return {
        "ok": len(ok), "failed": len(results) - len(ok), "errors": errors,
        "stalled_streams": sum(1 for r in ok if stats.stalls(r.arrivals, pacing_s)),
        "stalled_gaps": sum(stats.stalls(r.arrivals, pacing_s) for r in ok),
        "stalled_gap_pct": round(100 * sum(stats.stalls(r.arrivals, pacing_s) for r in ok) / len(all_gaps), 2)
        if all_gaps else 0.0,
        "max_gap_ms": round(max(all_gaps, default=0.0), 1),
        "p99_gap_ms": round(stats.percentile(all_gaps, 99), 1) if all_gaps else 0.0,
        "ttft_p99_ms": round(stats.percentile([r.ttft_ms for r in ok], 99), 1) if ok else None,
        "elapsed_s": round(elapsed_s, 2),
    }
