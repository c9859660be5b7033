"""The environment contract between the launcher and the services.

Services read these variables through their own pydantic-settings classes
(prefix ``FIELDVAULT_<SERVICE>_``). Tests that start services themselves build
the same environment with :func:`service_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fieldvault_devstack.settings import GRPC_SERVICES, VAULT_SERVICES


@dataclass(frozen=True)
class StackEndpoints:
    """Where the shared infrastructure and every service can be reached."""

    data_dir: Path
    host: str
    nats_url: str
    vault_addr: str
    grpc_ports: Mapping[str, int]
    gateway_port: int
    #: service -> (role_id, secret_id); only Vault-using services appear here.
    vault_credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    operator_token_sha256: str = ""


def env_prefix(service: str) -> str:
    return f"FIELDVAULT_{service.upper()}_"


def database_url(data_dir: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{Path(data_dir).resolve() / f'{service}.db'}"


def service_env(
    service: str,
    endpoints: StackEndpoints,
    base_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full process environment for one service.

    Starts from ``base_env`` (default: this process's environment, so PATH and
    any ``OTEL_*`` pass through) and adds only this service's settings: one
    service never sees another's Vault credentials.
    """
    env = dict(os.environ if base_env is None else base_env)
    env["FIELDVAULT_ENVIRONMENT"] = "development"
    # No collector on a laptop: keep the OTLP exporter from retrying forever,
    # unless the developer pointed OTEL_* somewhere on purpose.
    env.setdefault("OTEL_TRACES_EXPORTER", "none")
    # Logs go to files; unbuffered so the log tail we show on failure is complete.
    env["PYTHONUNBUFFERED"] = "1"
    if service == "gateway":
        env.update(_gateway_env(endpoints))
        return env

    prefix = env_prefix(service)
    env[f"{prefix}GRPC_HOST"] = endpoints.host
    env[f"{prefix}GRPC_PORT"] = str(endpoints.grpc_ports[service])
    env[f"{prefix}DATABASE_URL"] = database_url(endpoints.data_dir, service)
    env[f"{prefix}NATS_URL"] = endpoints.nats_url
    if service in VAULT_SERVICES:
        role_id, secret_id = endpoints.vault_credentials[service]
        env[f"{prefix}VAULT_ADDR"] = endpoints.vault_addr
        env[f"{prefix}VAULT_AUTH_METHOD"] = "approle"
        env[f"{prefix}VAULT_ROLE_ID"] = role_id
        env[f"{prefix}VAULT_SECRET_ID"] = secret_id
    if service == "identity":
        env[f"{prefix}OPERATOR_TOKEN_SHA256"] = endpoints.operator_token_sha256
    if service == "notification":
        # Local email delivery writes one file per message here instead of SMTP.
        env[f"{prefix}MAIL_DIR"] = str(Path(endpoints.data_dir).resolve() / "mail")
    return env


def _gateway_env(endpoints: StackEndpoints) -> dict[str, str]:
    env = {
        "FIELDVAULT_GATEWAY_HTTP_HOST": endpoints.host,
        "FIELDVAULT_GATEWAY_HTTP_PORT": str(endpoints.gateway_port),
    }
    for service in GRPC_SERVICES:
        address = f"{endpoints.host}:{endpoints.grpc_ports[service]}"
        env[f"FIELDVAULT_GATEWAY_{service.upper()}_ADDR"] = address
    return env
