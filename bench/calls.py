"""Python calls and profiled CPU per chat request through the in-process app (SQLite, the fake
upstream): a steadier comparison of two checkouts than worker CPU on a loaded machine.

    python -m bench.calls /path/to/checkout-a
    python -m bench.calls /path/to/checkout-b     (alternate them; compare the means)
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time


async def measure(root: str, n: int) -> str:
    sys.path.insert(0, root)  # the checkout under test, not the installed one
    os.chdir(root)
    from adapters.catalog_file.loader import load_catalog_file
    from gatewayz.migrations import migrate
    from tests.fakes.upstream import FakeUpstream
    from tests.harness import bearer, running_app
    from tests.integration.inference_kit import CATALOG, MESSAGES, provider_env

    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/calls.db"
    await asyncio.to_thread(migrate, url)
    off = {f"RATE_LIMIT_REQUESTS_PER_{w}": "0" for w in ("MINUTE", "HOUR", "DAY")}
    async with FakeUpstream() as fake, running_app(url, **provider_env(fake.url), **off, LOG_LEVEL="ERROR") as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        _, key = await r.user("calls@example.com", credits=1000)
        body = {"model": "acme/chat", "messages": MESSAGES, "max_tokens": 16}

        async def one() -> None:
            resp = await r.client.post("/v1/chat/completions", json=body, headers=bearer(key))
            assert resp.status_code == 200, resp.text

        for _ in range(100):  # warm-up: pools, caches, imports
            await one()
        profile = cProfile.Profile()
        started = time.process_time()
        profile.enable()
        for _ in range(n):
            await one()
        profile.disable()
        cpu = time.process_time() - started
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return f"{root}: {calls / n:.0f} calls/request, profiled CPU {cpu / n * 1000:.2f} ms/request (n={n})"


if __name__ == "__main__":
    checkout = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(asyncio.run(measure(os.path.abspath(checkout), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)))
