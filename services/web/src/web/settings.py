"""Settings of the web app, from ``FIELDVAULT_WEB_*`` environment variables.

The defaults match the local stack (``make run``): the gateway on
127.0.0.1:8080 and NATS on 127.0.0.1:14222. The container sets ``FIELDVAULT_WEB_PORT=8080``.
"""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from fieldvault_platform.settings import NatsSettings, service_config


class WebSettings(NatsSettings):
    model_config = service_config("web")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: The gateway's public REST API, called like any client (one contract).
    gateway_url: str = "http://127.0.0.1:8080"
    # ``nats_url`` (from NatsSettings): the sessions' key-value bucket lives there.
    #: JetStream key-value bucket of sessions, shared by every replica.
    session_bucket: str = Field(default="web_sessions", pattern=r"^[A-Za-z0-9_-]+$")
    #: A session unused this long ends (a phone left on a van's seat).
    session_idle_minutes: int = Field(default=30, ge=1)
    #: A session ends this long after sign-in, however busy.
    session_absolute_hours: int = Field(default=12, ge=1)
    #: Deadline of one call to the gateway.
    gateway_timeout_seconds: float = Field(default=10.0, gt=0)
    #: The reveal countdown's upper bound; the API's ``hide_after_seconds`` is used
    #: when shorter (tests set a short one).
    reveal_max_seconds: int = Field(default=60, ge=1)

    #: Times are shown in this zone (the company's): a job's window, when a grant opens.
    timezone: str = "Europe/Helsinki"

    @field_validator("gateway_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def session_idle_seconds(self) -> int:
        return self.session_idle_minutes * 60

    @property
    def session_absolute_seconds(self) -> int:
        return self.session_absolute_hours * 3600

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
