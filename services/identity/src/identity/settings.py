"""identity settings, from ``FIELDVAULT_IDENTITY_*`` environment variables."""

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
    model_config = service_config("identity")

    grpc_port: int = Field(default=17001, ge=1, le=65535)

    #: SHA-256 (hex) of the platform operator's bearer token. The token is high-entropy
    #: random, so a fast hash is enough; only the hash is configured, never the token.
    operator_token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
