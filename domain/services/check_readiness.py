"""CheckReadiness: ask every infrastructure probe, concurrently, and say which failed."""

from __future__ import annotations

import asyncio

from domain.errors import GatewayError
from ports.health import Probe


class CheckReadiness:
    def __init__(self, probes: list[Probe], timeout_s: float = 2.0) -> None:
        self._probes = probes
        self._timeout = timeout_s

    async def __call__(self) -> dict[str, str]:
        """Map of probe name -> "ok" or the reason it failed."""
        results = await asyncio.gather(*(self._one(p) for p in self._probes))
        return dict(zip((p.name for p in self._probes), results, strict=True))

    async def _one(self, probe: Probe) -> str:
        try:
            await asyncio.wait_for(probe.check(), self._timeout)
        except TimeoutError:
            return "timeout"
        except GatewayError as exc:
            return exc.message
        return "ok"
