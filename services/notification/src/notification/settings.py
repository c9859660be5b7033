"""notification settings, from ``FIELDVAULT_NOTIFICATION_*`` environment variables."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    IdentityClientSettings,
    NatsSettings,
    service_config,
)

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Settings(GrpcServerSettings, DatabaseSettings, NatsSettings, IdentityClientSettings):
    """Also identity's address, token issuer and this service's account secret
    (``IDENTITY_ADDR``, ``TOKEN_ISSUER``, ``SERVICE_ACCOUNT_SECRET``), for
    ``fieldvault_platform.auth.wiring``'s ``token_verification`` and ``ServiceTokens``."""

    model_config = service_config("notification")
    required_secrets: ClassVar[tuple[str, ...]] = ("webhook_secret_key",)

    grpc_port: int = Field(default=17004, ge=1, le=65535)
    #: How long an RPC right after start-up waits for the revocation list (fail closed).
    revocations_catch_up_seconds: float = Field(default=5.0, gt=0)
    #: SHA-256 (hex) of the platform operator's token (ListParkedEvents); unset: no operator.
    operator_token_sha256: Sha256Hex | None = None

    #: customer-vault, for a secure share's address and secret at sending time.
    customer_vault_addr: str = Field(default="127.0.0.1:17002", min_length=1)

    #: Where messages link to: the web app (served by the gateway).
    app_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8080")

    # --- email -----------------------------------------------------------------
    #: ``file`` writes one ``.eml`` per message under ``mail_dir`` (the local
    #: stack's default); ``smtp`` sends through ``smtp_host``.
    email_transport: Literal["file", "smtp"] = "file"
    mail_dir: str = ".fieldvault/mail"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    #: ``starttls`` upgrades a plain connection (port 587), ``tls`` is implicit TLS
    #: (port 465), ``none`` only for a relay on a trusted network.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    mail_from: str = Field(default="fieldvault <no-reply@fieldvault.local>", min_length=3)

    # --- SMS -------------------------------------------------------------------
    #: A generic HTTP SMS gateway: POST JSON ``{"to", "from", "text"}`` with
    #: ``Authorization: Bearer <sms_gateway_token>``. Unset: no SMS is sent.
    sms_gateway_url: AnyHttpUrl | None = None
    sms_gateway_token: SecretStr | None = None
    sms_sender: str = Field(default="fieldvault", max_length=11)

    # --- delivery of email and SMS -------------------------------------------------
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    delivery_retry_seconds: float = Field(default=5.0, gt=0)
    delivery_max_retry_seconds: float = Field(default=900.0, gt=0)
    #: Attempts before an email or SMS is given up (and logged as failed).
    delivery_max_attempts: int = Field(default=10, ge=1)

    # --- webhooks ------------------------------------------------------------------
    #: Key that encrypts the webhook signing secrets at rest (at least 32
    #: characters of randomness; required, never a placeholder outside development).
    webhook_secret_key: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Retry n waits about ``webhook_retry_seconds * 2**n`` (with full jitter), capped.
    webhook_retry_seconds: float = Field(default=10.0, gt=0)
    webhook_max_retry_seconds: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1)
    #: Deliveries that fail for good in a row before the subscription is disabled.
    webhook_disable_after_failures: int = Field(default=5, ge=1)
    #: Accept http:// and loopback, link-local and private receiver addresses.
    #: Unset: only in development (tests turn it on explicitly).
    webhook_allow_insecure_urls: bool | None = None

    #: Redeliveries of an event whose handling fails before it is parked.
    consumer_max_deliver: int = Field(default=5, ge=1)

    @property
    def insecure_webhook_urls_allowed(self) -> bool:
        if self.webhook_allow_insecure_urls is not None:
            return self.webhook_allow_insecure_urls
        return self.is_development
