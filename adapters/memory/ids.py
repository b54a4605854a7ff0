"""Sequential ids for deterministic tests."""

from __future__ import annotations


class SequentialIdGenerator:
    def __init__(self) -> None:
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def request_id(self) -> str:
        return f"req-{self._next():06d}"

    def key_body(self) -> str:
        return f"{self._next():043d}"
