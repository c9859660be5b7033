from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from fieldvault_platform.auth.contract import DEFAULT_ISSUER
from fieldvault_platform.settings import (
    DatabaseSettings,
    GrpcServerSettings,
    IdentityClientSettings,
    TokenVerificationSettings,
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


# --- identity as token issuer --------------------------------------------------------------

SERVICE_ACCOUNT_CANARY = "canary-service-account-secret-51c2e"


class ExampleIdentityClientSettings(GrpcServerSettings, IdentityClientSettings):
    model_config = service_config("example")


def _identity_env(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", environment)
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_GRPC_PORT", "17999")
    monkeypatch.delenv("FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET", raising=False)


def test_identity_client_defaults_match_the_local_stack_and_the_token_contract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _identity_env(monkeypatch, "development")
    settings = ExampleIdentityClientSettings()  # type: ignore[call-arg]
    assert settings.identity_addr == "127.0.0.1:17001"
    assert settings.token_issuer == DEFAULT_ISSUER
    assert settings.service_account_secret is None


def test_identity_client_settings_read_the_service_prefix_and_mask_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _identity_env(monkeypatch, "production")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_IDENTITY_ADDR", "identity.fieldvault.svc:8443")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_TOKEN_ISSUER", "https://id.example")
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET", SERVICE_ACCOUNT_CANARY)
    settings = ExampleIdentityClientSettings()  # type: ignore[call-arg]
    assert settings.identity_addr == "identity.fieldvault.svc:8443"
    assert settings.token_issuer == "https://id.example"
    assert settings.service_account_secret_value() == SERVICE_ACCOUNT_CANARY
    assert SERVICE_ACCOUNT_CANARY not in repr(settings)
    assert SERVICE_ACCOUNT_CANARY not in str(settings.model_dump())


@pytest.mark.parametrize("value", [None, "", "changeme", "Secret "])
def test_a_missing_or_placeholder_service_account_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    _identity_env(monkeypatch, "test")
    if value is not None:
        monkeypatch.setenv("FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET", value)
    with pytest.raises(
        ValidationError,
        match="FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET is missing or a placeholder",
    ):
        ExampleIdentityClientSettings()  # type: ignore[call-arg]


def test_without_a_service_account_secret_in_development_asking_for_it_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _identity_env(monkeypatch, "development")
    settings = ExampleIdentityClientSettings()  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET is not set"):
        settings.service_account_secret_value()


def test_the_service_account_secret_adds_to_the_vault_secrets_it_is_mixed_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Both(GrpcServerSettings, VaultSettings, IdentityClientSettings):
        model_config = service_config("example")

    _env(monkeypatch, "production", CANARY)
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_SERVICE_ACCOUNT_SECRET", SERVICE_ACCOUNT_CANARY)
    required = Both().required_secret_fields()  # type: ignore[call-arg]
    assert sorted(required) == ["service_account_secret", "vault_secret_id"]
    monkeypatch.setenv("FIELDVAULT_EXAMPLE_VAULT_SECRET_ID", "changeme")
    with pytest.raises(ValidationError, match="VAULT_SECRET_ID is missing or a placeholder"):
        Both()  # type: ignore[call-arg]


def test_token_verification_settings_alone_need_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Verifying(TokenVerificationSettings):
        model_config = service_config("example")

    _identity_env(monkeypatch, "production")
    assert Verifying().token_issuer == DEFAULT_ISSUER
