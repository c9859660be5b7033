"""work_order settings, from ``FIELDVAULT_WORK_ORDER_*`` environment variables."""

from __future__ import annotations

from pydantic import Field

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    IdentityClientSettings,
    NatsSettings,
    service_config,
)


class Settings(GrpcServerSettings, DatabaseSettings, NatsSettings, IdentityClientSettings):
    """Also identity's address, token issuer and this service's account secret
    (``IDENTITY_ADDR``, ``TOKEN_ISSUER``, ``SERVICE_ACCOUNT_SECRET``), for
    ``fieldvault_platform.auth.wiring``'s ``token_verification`` and ``ServiceTokens``."""

    model_config = service_config("work_order")

    grpc_port: int = Field(default=17003, ge=1, le=65535)
