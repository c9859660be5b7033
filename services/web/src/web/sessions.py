"""Server-side sessions in a JetStream key-value bucket; the browser holds only a cookie.

The cookie's value is 32 random bytes. It is the only thing that finds a session and
the only thing that opens it: the entry's key is a hash of it and the entry is
AES-GCM sealed with a key derived from it. So the bucket (every replica reads it)
holds no token and no personal data that anyone without the browser's cookie could
read, and a copy of the bucket is worth nothing.

A session holds the API's access and refresh tokens (refreshed here, never sent to
the browser), when it began and was last used (idle timeout and absolute lifetime
are checked on every read), and — between the password and the one-time-code step
of a sign-in — the pending credentials, for a few minutes at most.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nats.aio.client import Client as NatsClient
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyDeletedError, KeyNotFoundError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)

#: A pending sign-in (between password and one-time code) lasts at most this long.
PENDING_SECONDS = 300
#: ``last_seen`` is written back at most this often, so reading pages is not a write each.
TOUCH_EVERY_SECONDS = 30
KV_TIMEOUT_SECONDS = 2


class SessionStoreUnavailable(Exception):
    """The key-value bucket cannot be reached."""


@dataclass
class Session:
    #: ``signed_in``; ``enrolling`` (a token that may only enrol a second factor);
    #: ``pending_otp`` (the password was right, the code is asked for).
    state: str
    created_at: float
    last_seen: float
    access_token: str = ""
    refresh_token: str = ""
    access_expires_at: float = 0.0
    #: The tenant slug, shown back on the sign-in form after a timeout.
    tenant: str = ""
    #: Only while ``pending_otp``: what the second step sends again with the code.
    pending: dict[str, str] = field(default_factory=dict)
    #: Flash message keys for the next page (no personal data).
    flash: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Session:
        return cls(**json.loads(data))


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def _entry_key(session_id: str) -> str:
    return "s_" + hashlib.sha256(f"fieldvault-web-session:{session_id}".encode()).hexdigest()


def _sealing_key(session_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"fieldvault-web-session-seal"
    ).derive(session_id.encode())


def seal(session_id: str, session: Session) -> bytes:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(session_id)).encrypt(
        nonce, session.to_bytes(), _entry_key(session_id).encode()
    )
    return base64.b64encode(nonce + sealed)


def unseal(session_id: str, data: bytes) -> Session:
    raw = base64.b64decode(data)
    plain = AESGCM(_sealing_key(session_id)).decrypt(
        raw[:12], raw[12:], _entry_key(session_id).encode()
    )
    return Session.from_bytes(plain)


class SessionStore:
    """Sessions by cookie value, in the ``bucket`` of the NATS server at ``nats_url``."""

    def __init__(
        self,
        nats_url: str,
        bucket: str,
        *,
        idle_seconds: int,
        absolute_seconds: int,
        replicas: int = 1,
    ) -> None:
        self.nats_url = nats_url
        #: JetStream replicas of the bucket when this store creates it.
        self.replicas = replicas
        self.bucket = bucket
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds
        self._client: NatsClient | None = None
        self._kv: KeyValue | None = None

    async def _bucket(self) -> KeyValue:
        if self._kv is not None and self._client is not None and self._client.is_connected:
            return self._kv
        try:
            if self._client is None or self._client.is_closed:
                client = NatsClient()
                await client.connect(
                    # One server, or a cluster's separated by commas.
                    [url.strip() for url in self.nats_url.split(",") if url.strip()],
                    connect_timeout=KV_TIMEOUT_SECONDS,
                    max_reconnect_attempts=-1,
                    name="fieldvault-web",
                )
                self._client = client
            js = self._client.jetstream(timeout=KV_TIMEOUT_SECONDS)
            try:
                self._kv = await js.key_value(self.bucket)
            except BucketNotFoundError:
                # The bucket's age limit is the absolute lifetime: nothing outlives it.
                self._kv = await js.create_key_value(
                    KeyValueConfig(
                        bucket=self.bucket,
                        history=1,
                        ttl=self.absolute_seconds,
                        replicas=self.replicas,
                    )
                )
        except Exception as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from None
        return self._kv

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        self._client = None
        self._kv = None

    async def ready(self) -> bool:
        try:
            await self._bucket()
        except SessionStoreUnavailable:
            return False
        return True

    async def load(self, session_id: str) -> Session | None:
        """The live session of this cookie, or None (unknown, ended, timed out, tampered)."""
        if not session_id or len(session_id) > 100:
            return None
        kv = await self._bucket()
        try:
            entry = await kv.get(_entry_key(session_id))
        except (KeyNotFoundError, KeyDeletedError):
            return None
        except Exception as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from None
        if entry.value is None:
            return None
        try:
            session = unseal(session_id, entry.value)
        except Exception:
            log.warning("a session entry could not be opened; it is dropped")
            await self.delete(session_id)
            return None
        now = time.time()
        lifetime = PENDING_SECONDS if session.state == "pending_otp" else self.absolute_seconds
        if now - session.created_at > lifetime or now - session.last_seen > self.idle_seconds:
            await self.delete(session_id)
            return None
        if now - session.last_seen > TOUCH_EVERY_SECONDS:
            session.last_seen = now
            await self.save(session_id, session)
        return session

    async def save(self, session_id: str, session: Session) -> None:
        kv = await self._bucket()
        try:
            await kv.put(_entry_key(session_id), seal(session_id, session))
        except Exception as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from None

    async def delete(self, session_id: str) -> None:
        kv = await self._bucket()
        try:
            await kv.purge(_entry_key(session_id))
        except (KeyNotFoundError, KeyDeletedError):
            pass
        except Exception as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from None

    @staticmethod
    def new(state: str, **values: Any) -> Session:
        now = time.time()
        return Session(state=state, created_at=now, last_seen=now, **values)
