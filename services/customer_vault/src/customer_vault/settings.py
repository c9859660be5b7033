"""customer_vault settings, from ``FIELDVAULT_CUSTOMER_VAULT_*`` environment variables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    IdentityClientSettings,
    NatsSettings,
    VaultSettings,
    service_config,
)

MIB = 1024 * 1024


class SubProcessor(BaseModel):
    """A provider that processes personal data for every tenant: hosting, SMS, e-mail.

    Listed in each tenant's record of processing activities (GDPR Art. 30).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=500)
    #: Where the data is processed (a country, or "EU/EEA").
    location: str = Field(min_length=1, max_length=200)


class Settings(
    GrpcServerSettings, DatabaseSettings, NatsSettings, VaultSettings, IdentityClientSettings
):
    model_config = service_config("customer_vault")

    grpc_port: int = Field(default=17002, ge=1, le=65535)
    #: How long an RPC arriving right after start-up waits for the revocation
    #: listener to catch up before it is answered UNAVAILABLE (fail closed).
    revocations_catch_up_seconds: float = Field(default=5.0, gt=0)

    #: Plaintext data keys kept in memory: how many customers, and for how long.
    #: 0 disables the cache (every decryption asks Vault to unwrap the key).
    data_key_cache_size: int = Field(default=1000, ge=0)
    data_key_cache_seconds: float = Field(default=60.0, ge=0)

    #: Reveal attempts (granted or not) a user may make per window; the next
    #: one is refused, audited and announced as ``reveal_rate_exceeded``.
    reveal_rate_limit: int = Field(default=30, ge=1)
    reveal_rate_window_seconds: int = Field(default=3600, ge=1)
    #: What the client is told: hide a revealed value after this many seconds.
    reveal_hide_after_seconds: int = Field(default=30, ge=1)
    #: A break-glass reveal, or an export with code values, must say why in at
    #: least this many characters.
    break_glass_min_reason_length: int = Field(default=10, ge=1)
    #: GDPR exports carrying code values a DPO may make per window; the next one
    #: is refused (429) and audited.
    export_values_rate_limit: int = Field(default=3, ge=1)
    export_values_rate_window_seconds: int = Field(default=86400, ge=1)

    #: How long a subcontractor's DPA status read from identity is trusted.
    #: A lapse also revokes the organisation's grants through identity's event.
    dpa_cache_seconds: float = Field(default=30.0, ge=0)
    #: How far back an exposure report looks (a leaver's, a lapsed organisation's reveals).
    exposure_lookback_days: int = Field(default=365, ge=1, le=3650)
    #: How often the daily job checks whether today's overdue-code run is done.
    overdue_check_interval_seconds: float = Field(default=3600.0, gt=0)
    #: Longest validity window of a grant.
    max_grant_days: int = Field(default=62, ge=1)

    #: A checked-out physical key is overdue this long after its job's grant
    #: ended (its window closed, or the job was completed, cancelled or given back).
    key_return_grace_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    #: How often each replica looks for overdue keys (0: never; the
    #: ``alert-overdue-keys`` command still does it on demand).
    key_overdue_check_seconds: float = Field(default=60.0, ge=0)

    #: PostgreSQL: the role the service runs as, when migrations run as the
    #: owner (another URL). ``migrate`` then grants it only what serving needs —
    #: SELECT and INSERT on the audit records (see ``runtime_role.py``).
    runtime_database_role: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    #: Secure shares (docs/security-model.md#secure-sharing): how long a share
    #: lives unless its sender says otherwise, the longest it may live, and the
    #: wrong PINs after which it is dead.
    share_default_hours: int = Field(default=72, ge=1)
    share_max_hours: int = Field(default=14 * 24, ge=1)
    share_max_pin_attempts: int = Field(default=5, ge=1, le=20)

    #: Largest contract document (gRPC's default message limit is 4 MiB).
    max_contract_bytes: int = Field(default=3 * MIB, ge=1, le=3 * MIB + MIB // 2)

    #: The platform's sub-processors, a JSON list of ``{name, purpose, location}``
    #: (``FIELDVAULT_CUSTOMER_VAULT_SUB_PROCESSORS``); they appear in every tenant's
    #: record of processing activities.
    sub_processors: list[SubProcessor] = Field(default_factory=list, max_length=50)
