"""IdempotentWrite: run a write in one unit of work, guarded by an optional Idempotency-Key.

The key is claimed before the write, in the same transaction: a concurrent request with the same key
waits on the claim, then finds the stored result. The result is stored with the key and both commit
together; a write that fails stores nothing, so its key may be retried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec

from domain.errors import Conflict
from domain.idempotency import IdempotencyRecord, Once, checked_key, fingerprint
from ports.clock import Clock
from ports.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
STORED_STATUS = 200


class IdempotentWrite:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, *, scope: str, key: str | None, request: Any, result_type: type[T],
                       write: Callable[[UnitOfWork], Awaitable[T]]) -> Once[T]:
        key = checked_key(key)
        digest = fingerprint(request)
        for _ in range(3):
            try:
                async with self._uow() as uow:
                    if key is not None:
                        stored = await uow.idempotency.get(scope, key)
                        if stored is not None:
                            return Once(value=_replay(stored, digest, result_type), replayed=True)
                        await uow.idempotency.claim(IdempotencyRecord(
                            scope=scope, key=key, fingerprint=digest, created_at=self._clock.now()))
                    result = await write(uow)
                    if key is not None:
                        await uow.idempotency.complete(scope, key, status=STORED_STATUS,
                                                       body=msgspec.to_builtins(result))
                    await uow.commit()
                return Once(value=result)
            except Conflict as exc:
                if exc.code != "idempotency_key_in_use":
                    raise
                # a concurrent request with this key committed first: the next pass replays its result
        raise Conflict("Idempotency-Key is in use by a concurrent request", code="idempotency_key_in_use")


def _replay(stored: IdempotencyRecord, digest: str, result_type: type[T]) -> T:
    if stored.fingerprint != digest:
        raise Conflict("Idempotency-Key was already used with a different request",
                       code="idempotency_key_reused")
    return msgspec.convert(stored.body, type=result_type)
