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
    #: customer-vault's gRPC ``host:port``: sites are located and grants managed there.
    customer_vault_addr: str = Field(default="127.0.0.1:17002", min_length=1)
    #: How long an RPC right after start-up waits for the revocation list (fail closed).
    revocations_catch_up_seconds: float = Field(default=5.0, gt=0)

    #: The assignee's grant opens this long before the scheduled start and
    #: closes this long after the scheduled end.
    grant_margin_minutes: int = Field(default=60, ge=0)
    #: Without a schedule, a grant lasts this long from the assignment (and is
    #: renewed by a reschedule; completion or cancellation revokes it earlier).
    unscheduled_grant_hours: int = Field(default=12, ge=1)
    #: Grant changes waiting for customer-vault are retried with this backoff.
    grant_retry_seconds: float = Field(default=0.5, gt=0)
    grant_max_retry_seconds: float = Field(default=30.0, gt=0)
    #: How long one replica holds a work order's grant tasks while delivering
    #: them (renewed before each call; longer than a call's 5 s timeout).
    grant_lease_seconds: float = Field(default=30.0, ge=10)
