from datetime import timedelta

import msgspec
import pytest

from domain.api_keys import hash_key
from domain.errors import AuthenticationRequired, InvalidApiKey, ServiceUnavailable
from domain.invalidation import ALL, KEYS_TOPIC, USERS_TOPIC
from domain.services.authenticate import Authenticate
from tests.unit.accounts_world import SECRET, World, build_world


async def new_user(w: World, email: str = "ada@example.com", *, admin: bool = False) -> tuple[int, str]:
    created = await w.create_user(email=email, admin=admin)
    return created.user.id, created.api_key


@pytest.mark.parametrize("presented", [None, ""])
async def test_a_missing_key_requires_authentication(presented: str | None) -> None:
    w = build_world()
    with pytest.raises(AuthenticationRequired) as caught:
        await w.authenticate(presented)
    assert caught.value.message == "API key required"


@pytest.mark.parametrize("presented", [
    "garbage", "gw_live_short", "gw_live_" + "a" * 44, "sk-" + "a" * 48, "gw_live_" + "a" * 43 + "\n",
])
async def test_a_malformed_key_is_invalid_and_costs_no_lookup(presented: str) -> None:
    w = build_world()
    with pytest.raises(InvalidApiKey) as caught:
        await w.authenticate(presented)
    assert caught.value.message == "Invalid API key"
    assert w.database.lookups == 0


async def test_an_unknown_well_formed_key_is_invalid() -> None:
    w = build_world()
    await new_user(w)
    with pytest.raises(InvalidApiKey):
        await w.authenticate("gw_live_" + "x" * 43)
    assert w.database.lookups == 1


async def test_a_valid_key_yields_its_key_and_its_owner() -> None:
    w = build_world()
    user_id, key = await new_user(w, admin=True)
    principal = await w.authenticate(key)
    assert principal.user.id == user_id
    assert principal.user.email == "ada@example.com"
    assert principal.user.is_admin
    assert principal.key.user_id == user_id
    assert principal.key.key_hash == hash_key(SECRET, key)


async def test_a_key_digested_under_another_secret_is_not_recognised() -> None:
    w = build_world()
    _, key = await new_user(w)
    other = Authenticate(w.directory, w.clock, b"another-secret")
    with pytest.raises(InvalidApiKey):
        await other(key)
    assert (await w.authenticate(key)).key.user_id is not None


async def test_a_revoked_key_is_invalid() -> None:
    w = build_world()
    user_id, _ = await new_user(w)
    issued = await w.issue_api_key(user_id, name="second")
    await w.revoke_api_key(issued.key.id)
    with pytest.raises(InvalidApiKey):
        await w.authenticate(issued.plaintext)


async def test_an_expired_key_is_invalid_from_its_expiry_instant_even_when_cached() -> None:
    w = build_world()
    user_id, _ = await new_user(w)
    issued = await w.issue_api_key(user_id, expires_at=w.clock.now() + timedelta(seconds=60))
    w.clock.advance(59)
    assert (await w.authenticate(issued.plaintext)).key.id == issued.key.id
    w.clock.advance(1)
    with pytest.raises(InvalidApiKey):
        await w.authenticate(issued.plaintext)
    assert w.database.lookups == 1  # the second refusal came from the cached entry


async def test_the_key_of_an_inactive_user_is_invalid() -> None:
    w = build_world()
    user_id, key = await new_user(w)
    w.store.users[user_id] = msgspec.structs.replace(w.store.users[user_id], is_active=False)
    with pytest.raises(InvalidApiKey):
        await w.authenticate(key)


async def test_deactivating_a_user_refuses_their_cached_keys_once_the_change_is_broadcast() -> None:
    w = build_world()
    user_id, key = await new_user(w)
    await w.authenticate(key)
    w.store.users[user_id] = msgspec.structs.replace(w.store.users[user_id], is_active=False)
    await w.authenticate(key)  # still cached: the change has not been announced
    await w.bus.publish(USERS_TOPIC, str(user_id))
    with pytest.raises(InvalidApiKey):
        await w.authenticate(key)


async def test_revocation_is_broadcast_and_the_cache_forgets_the_key_at_once() -> None:
    w = build_world()
    user_id, key = await new_user(w)
    issued = await w.issue_api_key(user_id, name="ci")
    await w.authenticate(issued.plaintext)
    await w.authenticate(key)
    assert len(w.directory) == 2
    await w.revoke_api_key(issued.key.id)
    assert w.bus.published == [(KEYS_TOPIC, issued.key.key_hash)]
    assert len(w.directory) == 1
    with pytest.raises(InvalidApiKey):
        await w.authenticate(issued.plaintext)
    assert (await w.authenticate(key)).user.id == user_id  # the other key stays cached


async def test_without_the_broadcast_a_cached_key_outlives_its_revocation_in_the_store() -> None:
    """Why the broadcast matters: within its TTL the cache does not re-read the store."""
    w = build_world()
    _, key = await new_user(w)
    principal = await w.authenticate(key)
    w.store.api_keys[principal.key.id] = msgspec.structs.replace(principal.key, is_active=False)
    assert (await w.authenticate(key)).key.id == principal.key.id
    assert w.database.lookups == 1


async def test_an_expired_cache_entry_is_read_again_from_the_store() -> None:
    w = build_world(ttl_s=0.0)
    _, key = await new_user(w)
    principal = await w.authenticate(key)
    w.store.api_keys[principal.key.id] = msgspec.structs.replace(principal.key, is_active=False)
    with pytest.raises(InvalidApiKey):
        await w.authenticate(key)
    assert w.database.lookups == 2


async def test_the_cache_serves_a_stale_entry_while_the_store_is_unavailable() -> None:
    w = build_world(ttl_s=0.0)
    user_id, key = await new_user(w)
    await w.authenticate(key)
    w.database.down = True
    assert (await w.authenticate(key)).user.id == user_id
    assert w.database.lookups == 2  # it did try the store first


async def test_an_unseen_key_during_an_outage_is_service_unavailable_not_invalid() -> None:
    w = build_world()
    _, key = await new_user(w)
    w.database.down = True
    with pytest.raises(ServiceUnavailable):
        await w.authenticate(key)


async def test_a_stale_entry_is_not_served_past_its_stale_window() -> None:
    w = build_world(ttl_s=0.0, stale_for_s=0.0)
    _, key = await new_user(w)
    await w.authenticate(key)
    w.database.down = True
    with pytest.raises(ServiceUnavailable):
        await w.authenticate(key)


async def test_a_cached_miss_is_not_served_as_a_stale_hit() -> None:
    w = build_world(ttl_s=0.0)
    await new_user(w)
    unknown = "gw_live_" + "q" * 43
    with pytest.raises(InvalidApiKey):
        await w.authenticate(unknown)
    w.database.down = True
    with pytest.raises(ServiceUnavailable):
        await w.authenticate(unknown)


async def test_a_user_change_drops_that_users_keys_only() -> None:
    w = build_world()
    ada, ada_key = await new_user(w, "ada@example.com")
    _, bob_key = await new_user(w, "bob@example.com")
    await w.authenticate(ada_key)
    await w.authenticate(bob_key)
    await w.bus.publish(USERS_TOPIC, str(ada))
    assert len(w.directory) == 1
    await w.authenticate(bob_key)
    assert w.database.lookups == 2


async def test_the_wildcard_drops_every_cached_key() -> None:
    w = build_world()
    _, ada_key = await new_user(w, "ada@example.com")
    _, bob_key = await new_user(w, "bob@example.com")
    await w.authenticate(ada_key)
    await w.authenticate(bob_key)
    await w.bus.publish(KEYS_TOPIC, ALL)
    assert len(w.directory) == 0
    await w.authenticate(ada_key)
    await w.authenticate(bob_key)
    await w.bus.publish(USERS_TOPIC, ALL)
    assert len(w.directory) == 0


async def test_the_cache_is_bounded_and_evicts_the_least_recently_used_key() -> None:
    w = build_world(max_entries=2)
    keys = [(await new_user(w, f"u{i}@example.com"))[1] for i in range(3)]
    await w.authenticate(keys[0])
    await w.authenticate(keys[1])
    await w.authenticate(keys[0])  # a hit; keys[1] is now the least recently fetched
    await w.authenticate(keys[2])
    assert len(w.directory) == 2
    lookups = w.database.lookups
    await w.authenticate(keys[0])
    await w.authenticate(keys[2])
    assert w.database.lookups == lookups  # both still cached
    await w.authenticate(keys[1])
    assert w.database.lookups == lookups + 1  # evicted
