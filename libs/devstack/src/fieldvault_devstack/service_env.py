"""The environment contract between the launcher and the services.

Services read these variables through their own pydantic-settings classes
(prefix ``FIELDVAULT_<SERVICE>_``). Tests that start services themselves build
the same environment with :func:`service_env`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fieldvault_devstack.settings import GRPC_SERVICES, SERVICE_ACCOUNTS, VAULT_SERVICES


@dataclass(frozen=True)
class StackEndpoints:
    """Where the shared infrastructure and every service can be reached."""

    data_dir: Path
    host: str
    nats_url: str
    vault_addr: str
    grpc_ports: Mapping[str, int]
    gateway_port: int
    #: The field app's port; invitation and notification links open its pages.
    web_port: int = 8000
    #: service -> (role_id, secret_id); only Vault-using services appear here.
    vault_credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    operator_token_sha256: str = ""
    #: service -> its service-account secret. Each service gets its own; identity
    #: gets only their SHA-256 digests.
    service_account_secrets: Mapping[str, str] = field(default_factory=dict)
    #: The key notification encrypts webhook signing secrets with.
    webhook_secret_key: str = ""
    #: Service → database URL; a service not named uses SQLite in ``data_dir``.
    database_urls: Mapping[str, str] = field(default_factory=dict)
    #: JetStream replicas of streams and buckets (3 on the local NATS cluster). Above 1
    #: the gateways also keep their rate limits in NATS, shared by every replica.
    nats_replicas: int = 1

    def grpc_address(self, service: str) -> str:
        return f"{self.host}:{self.grpc_ports[service]}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"


def env_prefix(service: str) -> str:
    return f"FIELDVAULT_{service.upper()}_"


def database_url(data_dir: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{Path(data_dir).resolve() / f'{service}.db'}"


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def service_env(
    service: str,
    endpoints: StackEndpoints,
    base_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full process environment for one service.

    Starts from ``base_env`` (default: this process's environment, so PATH and
    any ``OTEL_*`` pass through) and adds only this service's settings: one
    service never sees another's Vault credentials or service-account secret.
    """
    env = dict(os.environ if base_env is None else base_env)
    env["FIELDVAULT_ENVIRONMENT"] = "development"
    # No collector on a laptop: keep the OTLP exporter from retrying forever,
    # unless the developer pointed OTEL_* somewhere on purpose.
    env.setdefault("OTEL_TRACES_EXPORTER", "none")
    # Logs go to files; unbuffered so the log tail we show on failure is complete.
    env["PYTHONUNBUFFERED"] = "1"
    if endpoints.nats_replicas > 1:
        env[f"{env_prefix(service)}NATS_REPLICAS"] = str(endpoints.nats_replicas)
    if service == "gateway":
        env.update(_gateway_env(endpoints))
        return env
    if service == "web":
        env.update(_web_env(endpoints))
        return env

    prefix = env_prefix(service)
    env[f"{prefix}GRPC_HOST"] = endpoints.host
    env[f"{prefix}GRPC_PORT"] = str(endpoints.grpc_ports[service])
    env[f"{prefix}DATABASE_URL"] = endpoints.database_urls.get(service) or database_url(
        endpoints.data_dir, service
    )
    env[f"{prefix}NATS_URL"] = endpoints.nats_url
    if service in VAULT_SERVICES:
        role_id, secret_id = endpoints.vault_credentials[service]
        env[f"{prefix}VAULT_ADDR"] = endpoints.vault_addr
        env[f"{prefix}VAULT_AUTH_METHOD"] = "approle"
        env[f"{prefix}VAULT_ROLE_ID"] = role_id
        env[f"{prefix}VAULT_SECRET_ID"] = secret_id
    if service in SERVICE_ACCOUNTS:
        # Where identity is (JWKS, service tokens) and this service's own account.
        env[f"{prefix}IDENTITY_ADDR"] = endpoints.grpc_address("identity")
        secret = endpoints.service_account_secrets.get(service)
        if secret is not None:
            env[f"{prefix}SERVICE_ACCOUNT_SECRET"] = secret
    if service == "identity":
        env.update(_identity_env(endpoints))
    if service == "work_order":
        # Sites are located and grants managed at customer-vault.
        env[f"{prefix}CUSTOMER_VAULT_ADDR"] = endpoints.grpc_address("customer_vault")
    if service == "notification":
        # Local email delivery writes one file per message here instead of SMTP.
        env[f"{prefix}MAIL_DIR"] = str(Path(endpoints.data_dir).resolve() / "mail")
        # A secure share's address and secret are fetched from customer-vault.
        env[f"{prefix}CUSTOMER_VAULT_ADDR"] = endpoints.grpc_address("customer_vault")
        # Links in messages open the field app's pages.
        env[f"{prefix}APP_BASE_URL"] = endpoints.web_url
        env[f"{prefix}OPERATOR_TOKEN_SHA256"] = endpoints.operator_token_sha256
        if endpoints.webhook_secret_key:
            env[f"{prefix}WEBHOOK_SECRET_KEY"] = endpoints.webhook_secret_key
    return env


def _identity_env(endpoints: StackEndpoints) -> dict[str, str]:
    prefix = env_prefix("identity")
    hashes = {
        name: sha256_hex(secret) for name, secret in endpoints.service_account_secrets.items()
    }
    return {
        # Identity only ever sees hashes: of the operator token and of each
        # service's secret.
        f"{prefix}OPERATOR_TOKEN_SHA256": endpoints.operator_token_sha256,
        f"{prefix}SERVICE_ACCOUNT_SECRETS_SHA256": json.dumps(hashes, sort_keys=True),
        # Invitation links open the field app's "accept invitation" page.
        f"{prefix}PUBLIC_BASE_URL": endpoints.web_url,
    }


def _gateway_env(endpoints: StackEndpoints) -> dict[str, str]:
    env = {
        "FIELDVAULT_GATEWAY_HTTP_HOST": endpoints.host,
        "FIELDVAULT_GATEWAY_HTTP_PORT": str(endpoints.gateway_port),
        # Revocation events for the gateway's own deny list.
        "FIELDVAULT_GATEWAY_NATS_URL": endpoints.nats_url,
    }
    if endpoints.nats_replicas > 1:
        env["FIELDVAULT_GATEWAY_RATE_LIMIT_STORE"] = "nats"
    for service in GRPC_SERVICES:
        env[f"FIELDVAULT_GATEWAY_{service.upper()}_ADDR"] = endpoints.grpc_address(service)
    return env


def _web_env(endpoints: StackEndpoints) -> dict[str, str]:
    # The field app reaches only the gateway (like any client) and NATS (sessions).
    return {
        "FIELDVAULT_WEB_HOST": endpoints.host,
        "FIELDVAULT_WEB_PORT": str(endpoints.web_port),
        "FIELDVAULT_WEB_GATEWAY_URL": endpoints.gateway_url,
        "FIELDVAULT_WEB_NATS_URL": endpoints.nats_url,
    }
