"""notification settings, from ``FIELDVAULT_NOTIFICATION_*`` environment variables."""

from __future__ import annotations

from pydantic import Field

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    service_config,
)


class Settings(GrpcServerSettings, DatabaseSettings, NatsSettings):
    model_config = service_config("notification")

    grpc_port: int = Field(default=17004, ge=1, le=65535)
