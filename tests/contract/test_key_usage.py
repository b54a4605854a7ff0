"""Key last-use times move forward only, on every adapter, and a batch touches only its keys."""

from __future__ import annotations

from datetime import timedelta

from tests.contract.conftest import Backend
from tests.contract.test_accounts import T0, add_key, add_user, tag


async def last_used(backend: Backend, key_id: int) -> object:
    async with backend.uow() as u:
        key = await u.api_keys.get(key_id)
    assert key is not None
    return key.last_used_at


async def test_last_used_at_moves_forward_never_back(backend: Backend) -> None:
    user = await add_user(backend.uow, f"usage-{tag()}@example.com")
    first, second, untouched = [await add_key(backend.uow, user.id) for _ in range(3)]
    later = T0 + timedelta(minutes=5)
    await backend.key_usage.mark_used({first.id: later, second.id: T0})
    assert await last_used(backend, first.id) == later
    assert await last_used(backend, second.id) == T0
    await backend.key_usage.mark_used({first.id: T0, second.id: later})  # an older sighting never wins
    assert await last_used(backend, first.id) == later
    assert await last_used(backend, second.id) == later
    assert await last_used(backend, untouched.id) is None
    await backend.key_usage.mark_used({})
    await backend.key_usage.mark_used({10**12: later})  # a key that no longer exists is no error
