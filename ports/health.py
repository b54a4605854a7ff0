"""Readiness probes of the infrastructure a process depends on."""

from __future__ import annotations

from typing import Protocol


class Probe(Protocol):
    name: str

    async def check(self) -> None:
        """Return when the dependency answers; raise ServiceUnavailable when it does not."""
        ...
