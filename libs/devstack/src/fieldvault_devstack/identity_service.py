"""A real identity service as its own process, for tests of the services that trust it.

A service under test verifies tokens with identity's JWKS and hears its
revocations on NATS; tests get their tokens from identity the way services do
(``IssueServiceToken``, ``Login``, ``ExchangeToken``). Running identity as a
process — not importing it — keeps the service under test honest: its deny
list is its own, fed only by NATS, as in production.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from fieldvault_devstack.health import grpc_serving
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.service_env import (
    StackEndpoints,
    database_url,
    env_prefix,
    service_env,
    sha256_hex,
)
from fieldvault_devstack.service_process import ServiceProcess, migrate
from fieldvault_devstack.settings import GRPC_SERVICES, SERVICE_ACCOUNTS

HOST = "127.0.0.1"


@dataclass(frozen=True)
class IdentityProcess:
    """Where identity listens and the credentials its deployment gave it."""

    addr: str
    operator_token: str
    #: Service account → its secret (identity was configured with the hashes only).
    service_account_secrets: Mapping[str, str]
    nats_url: str
    log_file: Path


@contextlib.contextmanager
def running_identity(
    *,
    directory: Path,
    nats_url: str,
    vault_addr: str,
    vault_credentials: Mapping[str, tuple[str, str]],
    database: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[IdentityProcess]:
    """Migrate and start identity; stop it when the block ends."""
    operator_token = secrets.token_urlsafe(32)
    account_secrets = {name: secrets.token_urlsafe(32) for name in SERVICE_ACCOUNTS}
    ports = {service: free_port() for service in GRPC_SERVICES}
    endpoints = StackEndpoints(
        data_dir=directory,
        host=HOST,
        nats_url=nats_url,
        vault_addr=vault_addr,
        grpc_ports=ports,
        gateway_port=free_port(),
        vault_credentials=vault_credentials,
        operator_token_sha256=sha256_hex(operator_token),
        service_account_secrets=account_secrets,
    )
    env = service_env("identity", endpoints)
    prefix = env_prefix("identity")
    env[f"{prefix}DATABASE_URL"] = database or database_url(directory, "identity")
    env.update(extra_env or {})
    migrate("identity", env)
    process = ServiceProcess("identity", env, directory / "identity.log")
    process.spawn()
    try:
        process.wait_ready(lambda: grpc_serving(HOST, ports["identity"]))
        yield IdentityProcess(
            addr=endpoints.grpc_address("identity"),
            operator_token=operator_token,
            service_account_secrets=account_secrets,
            nats_url=nats_url,
            log_file=process.log_file,
        )
    finally:
        process.stop()
