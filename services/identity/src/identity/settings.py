"""identity settings, from ``FIELDVAULT_IDENTITY_*`` environment variables."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, HttpUrl

from fieldvault_platform.auth.contract import DEFAULT_ISSUER, DEFAULT_MAX_TOKEN_LIFETIME
from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    VaultSettings,
    service_config,
)

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Settings(GrpcServerSettings, DatabaseSettings, NatsSettings, VaultSettings):
    model_config = service_config("identity")

    grpc_port: int = Field(default=17001, ge=1, le=65535)

    #: SHA-256 (hex) of the platform operator's bearer token. The token is high-entropy
    #: random, so a fast hash is enough; only the hash is configured, never the token.
    operator_token_sha256: Sha256Hex | None = None

    #: Service accounts: service name → SHA-256 (hex) of its secret, as JSON
    #: (``{"work_order": "<hex>", ...}``). What each may ask for is fixed in
    #: :mod:`identity.scopes`; a service not listed here gets no token.
    service_account_secrets_sha256: dict[str, Sha256Hex] = Field(default_factory=dict)

    token_issuer: str = DEFAULT_ISSUER
    #: Access-token lifetime; the contract caps it at 10 minutes.
    access_token_ttl_seconds: int = Field(default=300, ge=30, le=int(DEFAULT_MAX_TOKEN_LIFETIME))
    #: A login session ends this long after sign-in, however often it is refreshed.
    session_ttl_seconds: int = Field(default=12 * 3600, ge=300)
    #: A refresh token not used within this long expires (the session may live on
    #: only through a newer one).
    refresh_token_ttl_seconds: int = Field(default=8 * 3600, ge=300)

    #: Where invitees set their password: the link is ``<base>/invitations/accept#token=...``
    #: (a fragment, so the token never reaches a server log on the way).
    public_base_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")
    invitation_ttl_seconds: int = Field(default=72 * 3600, ge=300)

    #: How often to look for DPAs that have lapsed since the last look.
    dpa_check_interval_seconds: float = Field(default=60.0, gt=0)
