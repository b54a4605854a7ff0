import hashlib
import hmac
import string

import pytest

from adapters.system.ids import RandomIdGenerator
from domain.api_keys import KEY_BODY_LENGTH, KEY_PREFIX, compose_key, display_parts, hash_key, looks_like_key

URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def test_a_new_key_is_gw_live_and_43_url_safe_random_characters() -> None:
    ids = RandomIdGenerator()
    keys = {compose_key(ids.key_body()) for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith("gw_live_")
        assert len(key) == len(KEY_PREFIX) + KEY_BODY_LENGTH == 51
        assert set(key[len(KEY_PREFIX):]) <= URL_SAFE
        assert looks_like_key(key)


@pytest.mark.parametrize("body", ["a" * 42, "a" * 44, ""])
def test_a_key_body_of_the_wrong_length_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        compose_key(body)


def test_the_digest_is_hmac_sha256_of_the_key_under_the_secret() -> None:
    key = compose_key("A" * 43)
    digest = hash_key(b"secret-one", key)
    assert digest == hmac.new(b"secret-one", key.encode(), hashlib.sha256).hexdigest()
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert key not in digest
    assert hash_key(b"secret-one", key) == digest
    assert hash_key(b"secret-two", key) != digest
    assert hash_key(b"secret-one", compose_key("B" * 43)) != digest


def test_only_the_first_twelve_and_last_four_characters_are_kept_for_display() -> None:
    key = compose_key("abcdefghij" * 4 + "xyz")
    assert display_parts(key) == ("gw_live_abcd", "jxyz")


@pytest.mark.parametrize("candidate", [
    "gw_live_" + "a" * 43,
    "gw_test_" + "Z" * 43,
    "gw_live_" + "-_09azAZ" * 5 + "abc",
])
def test_well_formed_keys_look_like_keys(candidate: str) -> None:
    assert looks_like_key(candidate)


@pytest.mark.parametrize("candidate", [
    "",
    "garbage",
    "gw_live_",
    "gw_live_" + "a" * 42,
    "gw_live_" + "a" * 44,
    "gw_prod_" + "a" * 43,
    "GW_LIVE_" + "a" * 43,
    "sk-" + "a" * 48,
    "gw_live_" + "a" * 42 + "=",
    "gw_live_" + "a" * 42 + "+",
    "gw_live_" + "a" * 42 + "é",
    " gw_live_" + "a" * 43,
    "gw_live_" + "a" * 43 + " ",
    "gw_live_" + "a" * 43 + "\n",
    "Bearer gw_live_" + "a" * 43,
])
def test_malformed_candidates_do_not_look_like_keys(candidate: str) -> None:
    assert not looks_like_key(candidate)
