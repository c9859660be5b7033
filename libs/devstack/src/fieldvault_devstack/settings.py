"""Settings of the local stack launcher (``make run``), env prefix ``FIELDVAULT_DEV_``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "FIELDVAULT_DEV_"

#: Services that own a database and run Alembic migrations as their own step.
DB_SERVICES = ("identity", "customer_vault", "work_order", "notification")
#: Services that serve gRPC (and grpc.health.v1).
GRPC_SERVICES = ("identity", "customer_vault", "work_order", "notification")
#: Services that hold Vault credentials (AppRole); nobody else gets any.
VAULT_SERVICES = ("identity", "customer_vault")
#: Services with an account at identity (a secret for ``IssueServiceToken``); the
#: keys of identity's ``SERVICE_ACCOUNT_SCOPES``. The gateway needs none: it
#: exchanges its callers' tokens instead.
SERVICE_ACCOUNTS = ("identity", "customer_vault", "work_order", "notification")


class DevStackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Path(".fieldvault")
    host: str = "127.0.0.1"
    nats_port: int = 14222
    openbao_port: int = 18200
    #: OpenBao's raft storage needs a cluster port besides the API port.
    openbao_cluster_port: int = 18201
    identity_grpc_port: int = 17001
    customer_vault_grpc_port: int = 17002
    work_order_grpc_port: int = 17003
    notification_grpc_port: int = 17004
    gateway_port: int = 8080
    #: The field app (``services/web``), started after the gateway.
    web_port: int = 8000
    #: Service → database URL (``FIELDVAULT_DEV_DATABASE_URLS`` as JSON), e.g. PostgreSQL
    #: databases; a service not named keeps its SQLite file in ``data_dir``.
    database_urls: dict[str, str] = Field(default_factory=dict)

    def grpc_port(self, service: str) -> int:
        port: int = getattr(self, f"{service}_grpc_port")
        return port

    def ports(self) -> dict[str, int]:
        """Every port the stack binds, keyed by the environment variable that sets it."""
        names = [
            "nats_port",
            "openbao_port",
            "openbao_cluster_port",
            *(f"{service}_grpc_port" for service in GRPC_SERVICES),
            "gateway_port",
            "web_port",
        ]
        return {f"{ENV_PREFIX}{name.upper()}": getattr(self, name) for name in names}
