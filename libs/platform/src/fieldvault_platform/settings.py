"""Settings base: one pydantic-settings class per service, built in the composition root.

Each service subclasses :class:`ServiceSettings` with its own env prefix
(``FIELDVAULT_<SERVICE>_``). The deployment environment is shared:
``FIELDVAULT_ENVIRONMENT`` (``development``, ``test`` or ``production``).
Secret-bearing fields use :class:`pydantic.SecretStr`, whose ``repr`` is
masked. Outside development a secret that is missing or still a placeholder
is refused at start-up, so a copied example configuration never reaches
production.

Mixins add the settings of one concern (gRPC server, database, NATS, Vault,
identity as token issuer): a service's class lists the ones it needs.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def current_environment() -> Environment:
    """The shared deployment environment; production unless told otherwise (fail safe)."""
    return Environment(os.environ.get("FIELDVAULT_ENVIRONMENT", Environment.PRODUCTION))


#: Values that mean "nobody configured this yet".
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "placeholder", "dev", "todo"}
)


def is_placeholder(value: SecretStr | None) -> bool:
    return value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``model_config`` with their env prefix."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = Field(default_factory=current_environment)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    #: Names of SecretStr fields that must hold a real value outside development.
    #: Optional secrets (e.g. a Vault token when AppRole is used) are listed by
    #: subclasses only when they are required for the chosen configuration.
    required_secrets: ClassVar[tuple[str, ...]] = ()

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.environment is Environment.DEVELOPMENT:
            return self
        prefix = str(self.model_config.get("env_prefix", ""))
        for name in self.required_secret_fields():
            if is_placeholder(getattr(self, name, None)):
                raise ValueError(
                    f"{prefix}{name.upper()} is missing or a placeholder; "
                    f"set a real value (placeholders are only accepted in development)"
                )
        return self

    def required_secret_fields(self) -> tuple[str, ...]:
        """Secret fields that must be set; override to make the list depend on other fields."""
        return self.required_secrets


def service_config(service: str) -> SettingsConfigDict:
    """The standard ``model_config`` for a service: ``FIELDVAULT_<SERVICE>_`` prefix."""
    return SettingsConfigDict(
        env_prefix=f"FIELDVAULT_{service.upper()}_", extra="ignore", frozen=True
    )


class GrpcServerSettings(ServiceSettings):
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(ge=1, le=65535)
    #: Seconds in-flight RPCs get to finish after SIGTERM.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    #: Prometheus metrics (RPCs, events) over HTTP on ``grpc_host``; unset: not served.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)


class DatabaseSettings(ServiceSettings):
    database_url: str


class NatsSettings(ServiceSettings):
    #: One server, or a cluster's servers separated by commas (the client fails over).
    nats_url: str = "nats://127.0.0.1:14222"
    #: JetStream replicas of every stream and key-value bucket this service creates:
    #: 1 for a single nats-server, 3 for a three-node cluster (a stream then survives
    #: the loss of one node). Every service of a deployment must use the same value.
    nats_replicas: int = Field(default=1, ge=1, le=5)


class VaultSettings(ServiceSettings):
    vault_addr: str
    vault_auth_method: Literal["token", "approle", "kubernetes"] = "approle"
    vault_token: SecretStr | None = None
    vault_role_id: str | None = None
    vault_secret_id: SecretStr | None = None
    vault_kubernetes_role: str | None = None
    vault_kubernetes_jwt_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    vault_namespace: str | None = None
    vault_timeout_seconds: float = Field(default=5.0, gt=0)

    def required_secret_fields(self) -> tuple[str, ...]:
        by_method = {"token": ("vault_token",), "approle": ("vault_secret_id",), "kubernetes": ()}
        return (*super().required_secret_fields(), *by_method[self.vault_auth_method])

    @model_validator(mode="after")
    def _auth_method_has_what_it_needs(self) -> Self:
        if self.vault_auth_method == "approle" and not self.vault_role_id:
            raise ValueError("vault_role_id is required when vault_auth_method is 'approle'")
        if self.vault_auth_method == "kubernetes" and not self.vault_kubernetes_role:
            raise ValueError(
                "vault_kubernetes_role is required when vault_auth_method is 'kubernetes'"
            )
        return self


#: The access-token issuer identity signs with unless configured otherwise. It
#: equals ``fieldvault_platform.auth.contract.DEFAULT_ISSUER`` (a test pins it);
#: repeated here so that settings stay importable without the ``auth`` extra.
DEFAULT_TOKEN_ISSUER = "fieldvault-identity"  # noqa: S105 (an issuer name, not a secret)


class TokenVerificationSettings(ServiceSettings):
    """What verifying identity's access tokens needs: where identity is, whose tokens to trust.

    The gateway needs only this; a service with its own service account uses
    :class:`IdentityClientSettings`.
    """

    #: identity's gRPC ``host:port``: its JWKS (``GetJwks``) and service tokens.
    identity_addr: str = Field(default="127.0.0.1:17001", min_length=1)
    #: The ``iss`` tokens must carry; the same value as identity's ``TOKEN_ISSUER``.
    token_issuer: str = Field(default=DEFAULT_TOKEN_ISSUER, min_length=1)


class IdentityClientSettings(TokenVerificationSettings):
    """Token verification plus the service's own account at identity.

    ``service_account_secret`` is what the service presents to identity's
    ``IssueServiceToken`` (identity is configured with its SHA-256 only).
    Outside development it is required and may not be a placeholder; in
    development it may be left unset by a service that never calls another.
    """

    service_account_secret: SecretStr | None = None

    def required_secret_fields(self) -> tuple[str, ...]:
        return (*super().required_secret_fields(), "service_account_secret")

    def service_account_secret_value(self) -> str:
        """The secret, for ``ServiceTokens(secret=...)``; a clear error when none is set.

        (Placeholders are refused at start-up outside development already.)
        """
        if (
            self.service_account_secret is None
            or not self.service_account_secret.get_secret_value()
        ):
            prefix = str(self.model_config.get("env_prefix", ""))
            raise RuntimeError(
                f"{prefix}SERVICE_ACCOUNT_SECRET is not set: "
                "this service cannot obtain service tokens from identity"
            )
        return self.service_account_secret.get_secret_value()
