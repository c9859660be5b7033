"""Per-field cost of customer-vault's encryption, against bare AES-256-GCM.

Every read of a customer or site decrypts several fields, and every reveal
decrypts one; the data key comes from the in-memory cache after the first
unwrap. Both variants encrypt and decrypt the same values under the same key;
the difference is what customer-vault adds around ``AESGCM``:

* raw: ``AESGCM(key).encrypt(nonce, value, None)`` then ``decrypt`` — the baseline;
* CustomerCipher: ``seal``/``open`` — associated data built from tenant,
  customer, table, record and field, the format byte, UTF-8 coding — with the
  key fetched from ``DataKeyCache`` (a hit) for each value, as a read does.

No Vault: unwrapping a data key (a network round trip, once per customer per
cache lifetime) is not what is measured.

Usage: python bench/field_encryption.py [--n 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from customer_vault.crypto import CustomerCipher, DataKeyCache

VALUES = ["Ada Lovelace", "ada@example.com", "+44 20 7946 0000", "4711", "1 Harbour Road"]


def raw(key: bytes, n: int) -> None:
    aead = AESGCM(key)
    for index in range(n):
        value = VALUES[index % len(VALUES)].encode()
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, value, None), None)


def platform(key: bytes, n: int) -> None:
    cache = DataKeyCache(max_entries=1000, ttl_seconds=3600)
    cache.put("tenant-1", "customer-1", "vault:v1:wrapped", key)
    for index in range(n):
        cached = cache.get("tenant-1", "customer-1", "vault:v1:wrapped")
        assert cached is not None
        cipher = CustomerCipher("tenant-1", "customer-1", cached)
        field = ("name", "email", "phone", "door_code", "address")[index % 5]
        sealed = cipher.seal("customers", "record-1", field, VALUES[index % len(VALUES)])
        cipher.open("customers", "record-1", field, sealed)


def best_of(repeat: int, run: Callable[[], None]) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="values per measured path")
    parser.add_argument("--repeat", type=int, default=5, help="runs per path (best is kept)")
    args = parser.parse_args()
    key = os.urandom(32)
    baseline = best_of(args.repeat, lambda: raw(key, args.n))
    measured = best_of(args.repeat, lambda: platform(key, args.n))
    per = 1e6 / args.n
    print(f"raw AES-256-GCM      {baseline * per:8.2f} µs per value (encrypt + decrypt)")
    print(f"CustomerCipher+cache {measured * per:8.2f} µs per value (encrypt + decrypt)")
    print(f"ratio                {measured / baseline:8.2f}x")


if __name__ == "__main__":
    main()
