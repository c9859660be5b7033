"""Vault/OpenBao client wrapper over hvac.

hvac is synchronous, so every call runs in a worker thread and never blocks
the event loop. The service authenticates with its own credentials (token,
AppRole or Kubernetes service account) — never the root token — and logs in
again once when its token has expired. Vault being unreachable or sealed is
reported as :class:`~fieldvault_platform.errors.Unavailable` with a clear
message; plaintexts, data keys and tokens never appear in an error message.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import hvac
import hvac.exceptions
import requests
from opentelemetry import trace

from fieldvault_platform.errors import DomainError, Unavailable
from fieldvault_platform.metrics import VAULT_DURATION, trace_exemplar
from fieldvault_platform.settings import VaultSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")


class VaultRefused(DomainError):
    """Vault answered but refused: a policy or configuration problem, not the caller's fault."""

    status = grpc.StatusCode.INTERNAL
    code = "vault_refused"


@dataclass(frozen=True)
class TransitKey:
    name: str
    latest_version: int
    created: bool


@dataclass(frozen=True)
class DataKey:
    """A data key from Transit: ``plaintext`` is used locally, ``wrapped`` is stored."""

    plaintext: bytes
    wrapped: str

    def __repr__(self) -> str:  # never print key material
        return f"DataKey(wrapped={self.wrapped[:12]}…)"


class VaultClient:
    """One service's authenticated connection to Vault."""

    def __init__(self, settings: VaultSettings) -> None:
        self._settings = settings
        self._client = hvac.Client(
            url=settings.vault_addr,
            timeout=settings.vault_timeout_seconds,
            namespace=settings.vault_namespace,
        )
        self._login_lock = threading.Lock()
        self._logged_in = False

    # -- plumbing -----------------------------------------------------------------

    def _login(self) -> None:
        s = self._settings
        with self._login_lock:
            if s.vault_auth_method == "token":
                assert s.vault_token is not None
                self._client.token = s.vault_token.get_secret_value()
            elif s.vault_auth_method == "approle":
                assert s.vault_secret_id is not None
                self._client.auth.approle.login(
                    role_id=s.vault_role_id, secret_id=s.vault_secret_id.get_secret_value()
                )
            else:
                jwt = Path(s.vault_kubernetes_jwt_path).read_text().strip()
                self._client.auth.kubernetes.login(role=s.vault_kubernetes_role, jwt=jwt)
            self._logged_in = True

    def _call_sync(self, operation: Callable[[hvac.Client], T]) -> T:
        if not self._logged_in:
            self._login()
        try:
            return operation(self._client)
        except hvac.exceptions.Forbidden:
            # Most often an expired token: log in once more, then give up.
            self._login()
            return operation(self._client)

    async def call(self, operation: Callable[[hvac.Client], T], *, name: str) -> T:
        """Run ``operation(client)`` off the event loop, mapping failures to domain errors.

        ``name`` names the operation in spans and messages (never a value).
        """
        started = time.perf_counter()
        outcome = "failed"
        with tracer.start_as_current_span(f"vault {name}", kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("vault.operation", name)
            try:
                result = await asyncio.to_thread(self._call_sync, operation)
                outcome = "ok"
                return result
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                outcome = "unreachable"
                raise Unavailable(f"Vault is unavailable: cannot reach it ({name})") from exc
            except hvac.exceptions.VaultDown as exc:
                outcome = "sealed"
                raise Unavailable(f"Vault is unavailable: it is sealed ({name})") from exc
            except (hvac.exceptions.InternalServerError, hvac.exceptions.BadGateway) as exc:
                outcome = "server_error"
                raise Unavailable(
                    f"Vault is unavailable: it reported an internal error ({name})"
                ) from exc
            except hvac.exceptions.Forbidden as exc:
                outcome = "refused"
                raise VaultRefused(
                    f"Vault refused {name}: check this service's Vault policy"
                ) from exc
            except hvac.exceptions.VaultError as exc:
                outcome = "refused"
                raise VaultRefused(f"Vault could not perform {name}") from exc
            finally:
                # ``name`` is one of the fixed operation names of this module
                # (``transit.decrypt``), never a key or path: a key name may
                # carry a site's or customer's id.
                VAULT_DURATION.labels(name, outcome).observe(
                    time.perf_counter() - started, exemplar=trace_exemplar()
                )

    async def is_available(self) -> bool:
        """True when Vault answers and is unsealed (readiness)."""
        try:
            status: dict[str, Any] = await asyncio.to_thread(
                self._client.sys.read_health_status, method="GET"
            )
        except (requests.exceptions.RequestException, hvac.exceptions.VaultError):
            return False
        return isinstance(status, dict) and not status.get("sealed", True)

    # -- Transit ------------------------------------------------------------------

    async def ensure_transit_key(self, name: str, *, key_type: str = "aes256-gcm96") -> TransitKey:
        """Create the named Transit key unless it exists; idempotent under races."""

        def ensure(client: hvac.Client) -> TransitKey:
            created = False
            try:
                response = client.secrets.transit.read_key(name=name)
            except hvac.exceptions.InvalidPath:
                client.secrets.transit.create_key(name=name, key_type=key_type)
                created = True
                response = client.secrets.transit.read_key(name=name)
            return TransitKey(name, int(response["data"]["latest_version"]), created)

        return await self.call(ensure, name="transit.ensure_key")

    async def encrypt(self, key: str, plaintext: bytes) -> str:
        def encrypt(client: hvac.Client) -> str:
            encoded = base64.b64encode(plaintext).decode()
            response = client.secrets.transit.encrypt_data(name=key, plaintext=encoded)
            return str(response["data"]["ciphertext"])

        return await self.call(encrypt, name="transit.encrypt")

    async def decrypt(self, key: str, ciphertext: str) -> bytes:
        def decrypt(client: hvac.Client) -> bytes:
            response = client.secrets.transit.decrypt_data(name=key, ciphertext=ciphertext)
            return base64.b64decode(response["data"]["plaintext"])

        return await self.call(decrypt, name="transit.decrypt")

    async def hmac(self, key: str, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under a Transit key (``vault:v<N>:<base64>``).

        For keyed hashes whose key must never leave Vault. The result names
        the key version, so after a rotation old values still verify by
        recomputing with the version they name (see :meth:`hmac_matches`).
        """

        def compute(client: hvac.Client) -> str:
            encoded = base64.b64encode(data).decode()
            response = client.secrets.transit.generate_hmac(
                name=key, hash_input=encoded, algorithm="sha2-256"
            )
            return str(response["data"]["hmac"])

        return await self.call(compute, name="transit.hmac")

    async def hmac_matches(self, key: str, data: bytes, expected: str) -> bool:
        """Whether ``expected`` (an earlier :meth:`hmac` result) is the HMAC of ``data``."""

        def verify(client: hvac.Client) -> bool:
            encoded = base64.b64encode(data).decode()
            response = client.secrets.transit.verify_signed_data(
                name=key, hash_input=encoded, hmac=expected, hash_algorithm="sha2-256"
            )
            return bool(response["data"]["valid"])

        return await self.call(verify, name="transit.verify_hmac")

    async def generate_data_key(self, key: str) -> DataKey:
        """A fresh 256-bit data key, returned both plain (use now) and wrapped (store)."""

        def generate(client: hvac.Client) -> DataKey:
            response = client.secrets.transit.generate_data_key(
                name=key, key_type="plaintext", bits=256
            )
            data = response["data"]
            return DataKey(base64.b64decode(data["plaintext"]), str(data["ciphertext"]))

        return await self.call(generate, name="transit.generate_data_key")

    async def rotate_transit_key(self, key: str) -> int:
        """Add a new version to the key (new encryptions use it); return that version."""

        def rotate(client: hvac.Client) -> int:
            client.secrets.transit.rotate_key(name=key)
            response = client.secrets.transit.read_key(name=key)
            return int(response["data"]["latest_version"])

        return await self.call(rotate, name="transit.rotate_key")

    async def rewrap(self, key: str, ciphertexts: list[str]) -> list[str]:
        """Re-wrap Transit ciphertexts with the key's latest version, in one batch.

        The plaintext never leaves Vault, so this needs no decrypt permission
        on the data. The results are in the order of ``ciphertexts``.
        """
        if not ciphertexts:
            return []

        def rewrap(client: hvac.Client) -> list[str]:
            response = client.secrets.transit.rewrap_data(
                name=key,
                ciphertext="",
                batch_input=[{"ciphertext": value} for value in ciphertexts],
            )
            results = response["data"]["batch_results"]
            if any("error" in item and item["error"] for item in results):
                # The item errors quote nothing sensitive, but are not needed either.
                raise hvac.exceptions.InvalidRequest("rewrap failed for part of the batch")
            return [str(item["ciphertext"]) for item in results]

        return await self.call(rewrap, name="transit.rewrap")

    async def retire_transit_key_versions(self, key: str, *, below: int) -> None:
        """Destroy every key version below ``below``: what they wrapped is unreadable forever.

        Raising the minimum decryption version alone could be undone by
        anyone allowed to configure the key; trimming deletes the versions.
        """

        def retire(client: hvac.Client) -> None:
            # Trimming needs a minimum encryption version too; hvac refuses to send
            # one equal to the decryption minimum (Vault accepts it), hence the raw call.
            client.adapter.post(
                f"/v1/transit/keys/{key}/config",
                json={"min_decryption_version": below, "min_encryption_version": below},
            )
            client.secrets.transit.trim_key(name=key, min_version=below)

        await self.call(retire, name="transit.retire_versions")

    # -- KV v2 --------------------------------------------------------------------

    async def read_kv(self, path: str, *, mount: str = "kv") -> dict[str, Any] | None:
        def read(client: hvac.Client) -> dict[str, Any] | None:
            try:
                response = client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True
                )
            except hvac.exceptions.InvalidPath:
                return None
            return dict(response["data"]["data"])

        return await self.call(read, name="kv.read")

    async def write_kv(self, path: str, data: dict[str, Any], *, mount: str = "kv") -> None:
        def write(client: hvac.Client) -> None:
            client.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=mount)

        await self.call(write, name="kv.write")
