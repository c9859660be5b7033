"""customer_vault settings, from ``FIELDVAULT_CUSTOMER_VAULT_*`` environment variables."""

from __future__ import annotations

from pydantic import Field

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    VaultSettings,
    service_config,
)


class Settings(GrpcServerSettings, DatabaseSettings, NatsSettings, VaultSettings):
    model_config = service_config("customer_vault")

    grpc_port: int = Field(default=17002, ge=1, le=65535)
