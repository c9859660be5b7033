"""customer_vault settings, from ``FIELDVAULT_CUSTOMER_VAULT_*`` environment variables."""

from __future__ import annotations

from pydantic import Field

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    IdentityClientSettings,
    NatsSettings,
    VaultSettings,
    service_config,
)


class Settings(
    GrpcServerSettings, DatabaseSettings, NatsSettings, VaultSettings, IdentityClientSettings
):
    model_config = service_config("customer_vault")

    grpc_port: int = Field(default=17002, ge=1, le=65535)
    #: How long an RPC arriving right after start-up waits for the revocation
    #: listener to catch up before it is answered UNAVAILABLE (fail closed).
    revocations_catch_up_seconds: float = Field(default=5.0, gt=0)
