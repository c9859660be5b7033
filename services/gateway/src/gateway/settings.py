"""Gateway settings, built once in the composition root (``python -m gateway``).

Every value comes from ``FIELDVAULT_GATEWAY_*`` environment variables; the
defaults match the local stack (``make run``), where the four services listen
on 127.0.0.1:17001..17004.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cached_property
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from fieldvault_platform.auth.contract import DEFAULT_ISSUER
from fieldvault_platform.settings import NatsSettings, service_config

#: A gRPC target such as ``127.0.0.1:17001`` or ``identity.fieldvault.svc:8443``.
PeerAddress = Annotated[str, Field(min_length=1)]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MIB = 1024 * 1024


class GatewaySettings(NatsSettings):
    model_config = service_config("gateway")

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    #: Prometheus metrics over HTTP on ``http_host``, a listener of its own that the
    #: public ingress never routes; unset: not served (``/metrics`` on ``http_port``
    #: is a 404 either way).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    identity_addr: PeerAddress = "127.0.0.1:17001"
    customer_vault_addr: PeerAddress = "127.0.0.1:17002"
    work_order_addr: PeerAddress = "127.0.0.1:17003"
    notification_addr: PeerAddress = "127.0.0.1:17004"

    # ``nats_url`` (from NatsSettings): JetStream, from which identity's revocation
    # events reach the gateway's deny list.
    #: The ``iss`` identity signs tokens with.
    token_issuer: str = DEFAULT_ISSUER
    #: Addresses or CIDR networks of reverse proxies whose ``X-Forwarded-For`` is
    #: believed (for the client address used in login throttling and audit).
    #: Empty: none is, and the socket peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    #: Per-peer deadline of a ``/readyz`` health check; probes must answer fast.
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    #: Default deadline of a gRPC call made on behalf of a REST request.
    request_timeout_seconds: float = Field(default=5.0, gt=0)

    #: Largest contract document accepted for upload; a larger one is refused with
    #: 413 before customer_vault is called. Bounded by gRPC's default 4 MiB message
    #: limit (the document travels in one message), like customer_vault's own limit.
    max_contract_bytes: int = Field(default=3 * MIB, ge=1, le=3 * MIB + MIB // 2)

    #: Largest request body of any other route (JSON bodies, forms): a larger one is
    #: refused with 413 ``payload_too_large`` — from ``Content-Length`` before it is read,
    #: or while a chunked body streams in.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=MIB)

    #: Where the rate-limit buckets live: ``nats``, a JetStream key-value bucket shared
    #: by every replica (one budget per client whichever replica answers; sign-in,
    #: token and reveal requests are refused with 503 while NATS is unreachable), or
    #: ``memory``, per replica (N replicas: N times the budget). The chart sets ``nats``.
    rate_limit_store: Literal["memory", "nats"] = "memory"
    rate_limit_bucket: str = Field(default="gateway_rate_limits", pattern=r"^[A-Za-z0-9_-]+$")
    #: Rate limits, requests per minute (token buckets: the budget is also the burst).
    #: The backends keep their own limits too (identity's login throttle,
    #: customer_vault's reveal rate), so these shed abuse early.
    #: Every request counts against its client address and, with a verified bearer
    #: token, against its user (or partner client).
    rate_limit_client_per_minute: int = Field(default=1200, ge=1)
    rate_limit_user_per_minute: int = Field(default=600, ge=1)
    #: ``POST /v1/auth/login`` per client address, and per tenant + e-mail.
    rate_limit_login_per_minute: int = Field(default=20, ge=1)
    rate_limit_login_account_per_minute: int = Field(default=10, ge=1)
    #: ``POST /v1/oauth/token`` and ``POST /v1/auth/refresh`` per client address.
    rate_limit_token_per_minute: int = Field(default=60, ge=1)
    #: ``POST /v1/sites/{id}/secrets/{kind}/reveal`` per user.
    rate_limit_reveal_per_minute: int = Field(default=10, ge=1)
    #: Buckets kept at most; idle ones (refilled to full) are dropped first.
    rate_limit_max_keys: int = Field(default=100_000, ge=100)

    #: JetStream key-value bucket remembering ``Idempotency-Key`` outcomes of creates,
    #: shared by every replica, and for how long (the contract says at least 24 h).
    idempotency_bucket: str = Field(default="gateway_idempotency", pattern=r"^[A-Za-z0-9_-]+$")
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=24 * 3600)

    #: Browser origins allowed to call the API cross-origin. Empty by default: the
    #: web app is served by the gateway itself (same origin) and partner systems
    #: are not browsers. ``NoDecode`` lets the variable be a plain comma-separated
    #: list (``https://a.example,https://b.example``) as well as a JSON array.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies entries must be IP addresses or CIDR networks: {entry!r}"
                ) from None
        return value

    @cached_property
    def _trusted_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return self._trusted_networks

    @model_validator(mode="after")
    def _metrics_on_a_port_of_their_own(self) -> Self:
        # On the public port the ingress would route them to the internet.
        if self.metrics_port is not None and self.metrics_port == self.http_port:
            raise ValueError(
                "FIELDVAULT_GATEWAY_METRICS_PORT must differ from FIELDVAULT_GATEWAY_HTTP_PORT: "
                "metrics are never served on the public port"
            )
        return self

    @model_validator(mode="after")
    def _no_wildcard_origin_outside_development(self) -> Self:
        # A wildcard would let any web page drive the API with a user's token
        # pasted into it; in production every origin must be named.
        if "*" in self.cors_origins and not self.is_development:
            raise ValueError(
                "FIELDVAULT_GATEWAY_CORS_ORIGINS may not contain '*' outside development; "
                "list the allowed origins"
            )
        return self

    def peer_addresses(self) -> dict[str, str]:
        """Peer service name → gRPC target; names are what ``/readyz`` and errors show."""
        return {
            "identity": self.identity_addr,
            "customer_vault": self.customer_vault_addr,
            "work_order": self.work_order_addr,
            "notification": self.notification_addr,
        }
