"""Field encryption and the data-key cache, as pure logic (no Vault, no database)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_vault.crypto import CannotDecrypt, CustomerCipher, DataKeyCache

KEY = os.urandom(32)


@given(value=st.text(max_size=200))
def test_a_sealed_value_opens_only_where_it_was_sealed(value: str) -> None:
    cipher = CustomerCipher("t1", "c1", KEY)
    sealed = cipher.seal("customers", "r1", "name", value)
    assert cipher.open("customers", "r1", "name", sealed) == value
    # (A short value may occur in random bytes by chance; eight bytes will not.)
    assert value.encode() not in sealed or len(value.encode()) < 8
    for place in (
        ("customers", "r1", "email"),
        ("customers", "r2", "name"),
        ("sites", "r1", "name"),
    ):
        with pytest.raises(CannotDecrypt):
            cipher.open(*place, sealed)
    for other in (CustomerCipher("t1", "c2", KEY), CustomerCipher("t2", "c1", KEY)):
        with pytest.raises(CannotDecrypt):
            other.open("customers", "r1", "name", sealed)


def test_the_same_value_seals_differently_each_time() -> None:
    cipher = CustomerCipher("t1", "c1", KEY)
    assert cipher.seal("site_secrets", "s1", "door_code", "1234") != cipher.seal(
        "site_secrets", "s1", "door_code", "1234"
    )


@pytest.mark.parametrize("stored", [b"", b"\x01short", b"\x02" + b"0" * 40])
def test_malformed_ciphertext_is_refused_without_saying_more(stored: bytes) -> None:
    with pytest.raises(CannotDecrypt) as caught:
        CustomerCipher("t1", "c1", KEY).open("customers", "r1", "name", stored)
    assert str(caught.value) == "a stored value could not be decrypted"


def test_a_flipped_bit_is_detected() -> None:
    cipher = CustomerCipher("t1", "c1", KEY)
    sealed = bytearray(cipher.seal("customers", "r1", "notes", "gate code is on the fridge"))
    sealed[-1] ^= 1
    with pytest.raises(CannotDecrypt):
        cipher.open("customers", "r1", "notes", bytes(sealed))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_forgets_after_its_ttl_and_for_another_wrapping() -> None:
    clock = Clock()
    cache = DataKeyCache(max_entries=10, ttl_seconds=60, clock=clock)
    cache.put("t", "c", "vault:v1:a", KEY)
    assert cache.get("t", "c", "vault:v1:a") == KEY
    assert cache.get("t", "c", "vault:v2:b") is None  # re-wrapped elsewhere: ask Vault
    cache.put("t", "c", "vault:v1:a", KEY)
    clock.now = 60.0
    assert cache.get("t", "c", "vault:v1:a") is None
    assert len(cache) == 0


def test_the_cache_is_bounded_and_zeroises_what_it_evicts() -> None:
    cache = DataKeyCache(max_entries=2, ttl_seconds=60)
    for customer in ("a", "b"):
        cache.put("t", customer, "w", KEY)
    held = cache._entries[("t", "a")].key  # the cache's own copy
    cache.get("t", "a", "w")  # a is now the most recently used
    cache.put("t", "c", "w", KEY)
    assert cache.get("t", "b", "w") is None and cache.get("t", "a", "w") == KEY
    assert len(cache) == 2
    kept = cache._entries[("t", "a")].key
    cache.evict("t", "a")
    assert kept == bytearray(32) and held is kept


def test_a_zero_sized_cache_keeps_nothing() -> None:
    cache = DataKeyCache(max_entries=0, ttl_seconds=60)
    cache.put("t", "c", "w", KEY)
    assert cache.get("t", "c", "w") is None
