from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    VaultSettings,
    service_config,
)

CANARY = "canary-vault-secret-id-7f3a9"


class ExampleSettings(GrpcServerSettings, DatabaseSettings, VaultSettings):
    model_config = service_config("example")


def _env(monkeypatch: pytest.MonkeyPatch, environment: str, secret_id: str) -> None:
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", environment)
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_GRPC_PORT", "17999")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_VAULT_ADDR", "http://127.0.0.1:1")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_VAULT_ROLE_ID", "role")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_VAULT_SECRET_ID", secret_id)


def test_settings_read_the_service_prefix_and_mask_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, "production", CANARY)
    settings = ExampleSettings()  # type: ignore[call-arg]
    assert settings.grpc_port == 17999
    assert isinstance(settings.vault_secret_id, SecretStr)
    assert settings.vault_secret_id.get_secret_value() == CANARY
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings.model_dump())


@pytest.mark.parametrize("placeholder", ["changeme", "", "CHANGEME "])
def test_placeholder_secrets_are_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, placeholder: str
) -> None:
    _env(monkeypatch, "production", placeholder)
    with pytest.raises(
        ValidationError, match="FIELDVAULT_EXAMPLE_VAULT_SECRET_ID is missing or a placeholder"
    ):
        ExampleSettings()  # type: ignore[call-arg]


def test_placeholder_secrets_are_accepted_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, "development", "changeme")
    assert ExampleSettings().is_development  # type: ignore[call-arg]


def test_unset_environment_means_production(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, "development", "changeme")
    monkeypatch.delenv("FIELDVAULT_ENVIRONMENT")
    with pytest.raises(ValidationError, match="placeholder"):
        ExampleSettings()  # type: ignore[call-arg]


def test_required_values_without_defaults_are_reported_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _env(monkeypatch, "development", "x")
    monkeypatch.delenv("FIELDVAULT_EXAMPLE_DATABASE_URL")
    with pytest.raises(ValidationError, match="database_url"):
        ExampleSettings()  # type: ignore[call-arg]


def test_approle_needs_a_role_id(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, "development", "x")
    monkeypatch.delenv("FIELDVAULT_EXAMPLE_VAULT_ROLE_ID")
    with pytest.raises(ValidationError, match="vault_role_id is required"):
        ExampleSettings()  # type: ignore[call-arg]
