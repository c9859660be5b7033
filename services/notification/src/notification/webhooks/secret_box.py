"""Signing secrets at rest: AES-256-GCM under a key derived from the service's
``WEBHOOK_SECRET_KEY``, bound to the subscription's id (a ciphertext copied to
another row does not decrypt)."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
_INFO = b"fieldvault notification webhook secrets v1"


class SecretBox:
    def __init__(self, key_material: str) -> None:
        if len(key_material) < 32:
            raise ValueError("the webhook secret key must be at least 32 characters")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            key_material.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, webhook_id: str, secret: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), webhook_id.encode())

    def open(self, webhook_id: str, sealed: bytes) -> str:
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, webhook_id.encode()).decode()
