"""python -m bench [--quick] [--only latency,throughput,streaming,memory] [--profile] [--strict]"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench import report, wrk
from bench.scenarios import PHASES, Bench, Plan
from bench.stack import Stack, StackError


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small counts, under a minute: a smoke run")
    ap.add_argument("--only", default=",".join(PHASES),
                    help=f"comma-separated phases to run (default: all of {','.join(PHASES)})")
    ap.add_argument("--profile", action="store_true",
                    help="also sample the worker with py-spy during an extra throughput run")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--output", type=Path, default=None, help="results file (default bench/results/latest.json)")
    args = ap.parse_args(argv)
    phases = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        ap.error(f"--only takes phases from {','.join(PHASES)}; got {args.only!r}")
    args.phases = tuple(p for p in PHASES if p in phases)
    return args


def _terminate(signum: int, frame: Any) -> None:
    """Ctrl-C, SIGTERM and SIGHUP all unwind the same way: wrk killed, then the stack cleaned up."""
    wrk.stop_all()
    raise KeyboardInterrupt


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT even when started with it ignored
        signal.signal(sig, _terminate)
    plan = Plan.make(args.quick, args.phases, args.profile)
    started, load_before = time.monotonic(), report.loadavg()
    print(f"Gatewayz benchmark ({'quick' if plan.quick else 'full'}): {', '.join(plan.phases)}; "
          f"load generator: {'wrk' if wrk.available() else 'python aiohttp (wrk not installed)'}")
    governance: dict[str, Any] = {}
    try:
        with Stack() as stack:
            stack.start()
            bench = Bench(stack=stack, plan=plan, deadline=started + plan.budget_s)
            results = _run_loop(bench.run())
            results["served_total"] = bench.served
            governance = stack.stop_gateway(plan.stop_grace_s)
    except KeyboardInterrupt:
        print("\ninterrupted: everything started was stopped and the database dropped", file=sys.stderr)
        return 130
    except (StackError, RuntimeError, OSError) as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    results["governance"] = governance
    rows = report.evaluate(results)
    judged = [r for r in rows if r["judged"]]
    payload = {
        "date": report.now(), "git": report.git_info(), "machine": report.machine(),
        "load_average": {"before": load_before, "after": report.loadavg()},
        "run": {"quick": plan.quick, "phases": list(plan.phases), "seconds": round(time.monotonic() - started, 1),
                "generator": "wrk" if wrk.available() else "python-aiohttp", "plan": _plan_dict(plan)},
        "results": results, "targets": rows,
        "all_targets_met": all(r["ok"] for r in judged if r["measured"] is not None),
    }
    path = report.write(payload, args.output)
    print()
    print(report.table(rows, plan.quick))
    print()
    if governance:
        stop = governance.get("stop") or {}
        print(f"governance: {governance.get('request_rows')} request rows, {governance.get('usage_rows')} usage "
              f"ledger rows for {results['served_total']} requests sent; spent ${governance.get('spent_usd')}; "
              f"settlements missing after shutdown: {governance.get('settlements_missing')} (graceful stop took "
              f"{stop.get('stop_s')}s{', then SIGKILL' if stop.get('forced') else ''})")
    print(f"load average before {load_before}, after {payload['load_average']['after']} "
          f"({payload['machine']['cores']} cores); {payload['run']['seconds']}s; results in {path}")
    return 1 if args.strict and not payload["all_targets_met"] else 0


def _plan_dict(plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(plan)


if __name__ == "__main__":
    sys.exit(main())
