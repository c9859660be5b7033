from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings


def test_defaults_match_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "test")
    settings = GatewaySettings()

    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.peer_addresses() == {
        "identity": "127.0.0.1:17001",
        "customer_vault": "127.0.0.1:17002",
        "work_order": "127.0.0.1:17003",
        "notification": "127.0.0.1:17004",
    }
    assert settings.cors_origins == []


def test_values_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "test")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_HTTP_PORT", "9090")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_IDENTITY_ADDR", "identity:8443")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")

    settings = GatewaySettings()

    assert settings.http_port == 9090
    assert settings.identity_addr == "identity:8443"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_cors_origins_also_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "test")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_CORS_ORIGINS", '["https://a.example"]')

    assert GatewaySettings().cors_origins == ["https://a.example"]


def test_wildcard_cors_origin_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDVAULT_GATEWAY_CORS_ORIGINS", "*")

    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        GatewaySettings()

    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "development")
    assert GatewaySettings().cors_origins == ["*"]
