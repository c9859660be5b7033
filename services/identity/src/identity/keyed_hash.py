"""Keyed hashes of high-entropy secrets (API-client secrets, invitation tokens).

A random 256-bit secret needs no slow password hash: a keyed HMAC-SHA256 is
fast to verify and, because the key never leaves Vault Transit, a copy of the
database alone lets nobody test guesses offline. ``purpose`` separates the
domains, so a value hashed for one use never matches another.
"""

from __future__ import annotations

from typing import Literal

from fieldvault_platform.vault import VaultClient
from identity.components import HMAC_KEY

Purpose = Literal["api_client_secret", "invitation"]


def _input(purpose: Purpose, value: str) -> bytes:
    return f"fieldvault-identity/{purpose}\n{value}".encode("utf-8", "surrogatepass")


async def keyed_hash(vault: VaultClient, purpose: Purpose, value: str) -> str:
    """``vault:v<N>:<base64>``: store it; it names the key version it was made with."""
    return await vault.hmac(HMAC_KEY, _input(purpose, value))


async def keyed_hash_matches(
    vault: VaultClient, purpose: Purpose, value: str, expected: str
) -> bool:
    """Whether ``expected`` is the keyed hash of ``value`` (checked inside Vault)."""
    return await vault.hmac_matches(HMAC_KEY, _input(purpose, value), expected)
