"""The launcher's infrastructure half (the services are started by the full-stack test)."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest

from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import SERVICE_ACCOUNTS, DevStackSettings
from fieldvault_devstack.stack import LocalStack

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path) -> DevStackSettings:
    ports = {name: free_port() for name in DevStackSettings.model_fields if name.endswith("_port")}
    return DevStackSettings(data_dir=tmp_path / "dev", **ports)  # type: ignore[arg-type]


@pytest.fixture
def stacks() -> Iterator[list[LocalStack]]:
    started: list[LocalStack] = []
    yield started
    for stack in started:
        stack.stop()


def test_second_start_reuses_operator_token_credentials_and_vault_data(
    settings: DevStackSettings, stacks: list[LocalStack]
) -> None:
    first = LocalStack(settings)
    stacks.append(first)
    endpoints = first.start_infrastructure()
    token = first.operator_token_file.read_text().strip()
    assert stat.S_IMODE(first.operator_token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.data_dir.stat().st_mode) == 0o700
    assert endpoints.operator_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    accounts = sorted(first.service_accounts_dir.iterdir())
    assert [path.name for path in accounts] == sorted(SERVICE_ACCOUNTS)
    assert stat.S_IMODE(first.service_accounts_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in accounts)
    first.openbao.client().secrets.transit.create_key(name="fv-tenant-kept")
    first.stop()

    second = LocalStack(settings)
    stacks.append(second)
    again = second.start_infrastructure()

    assert second.operator_token_file.read_text().strip() == token
    assert again.vault_credentials == endpoints.vault_credentials
    assert again.service_account_secrets == endpoints.service_account_secrets
    assert again.nats_url == f"nats://127.0.0.1:{settings.nats_port}"
    key = second.openbao.client().secrets.transit.read_key(name="fv-tenant-kept")
    assert key["data"]["name"] == "fv-tenant-kept"


def test_each_service_gets_only_its_own_settings_and_credentials(
    settings: DevStackSettings, stacks: list[LocalStack]
) -> None:
    stack = LocalStack(settings)
    stacks.append(stack)
    endpoints = stack.start_infrastructure()

    identity = stack.env_for("identity")
    customer_vault = stack.env_for("customer_vault")
    work_order = stack.env_for("work_order")
    gateway = stack.env_for("gateway")

    assert identity["FIELDVAULT_ENVIRONMENT"] == "development"
    assert identity["FIELDVAULT_IDENTITY_GRPC_PORT"] == str(settings.identity_grpc_port)
    assert identity["FIELDVAULT_IDENTITY_DATABASE_URL"] == (
        f"sqlite+aiosqlite:///{stack.data_dir / 'identity.db'}"
    )
    assert identity["FIELDVAULT_IDENTITY_OPERATOR_TOKEN_SHA256"] == endpoints.operator_token_sha256
    assert customer_vault["FIELDVAULT_CUSTOMER_VAULT_VAULT_AUTH_METHOD"] == "approle"
    # No service ever sees another's Vault credentials or the root token.
    root_token = stack.openbao.root_token
    for env in (identity, customer_vault, work_order, gateway):
        assert root_token not in env.values()
    assert "FIELDVAULT_CUSTOMER_VAULT_VAULT_SECRET_ID" not in identity
    assert "FIELDVAULT_IDENTITY_VAULT_SECRET_ID" not in customer_vault
    assert not any("VAULT_SECRET_ID" in name for name in (*work_order, *gateway))
    assert (
        gateway["FIELDVAULT_GATEWAY_WORK_ORDER_ADDR"]
        == f"127.0.0.1:{settings.work_order_grpc_port}"
    )
    assert (
        work_order["FIELDVAULT_WORK_ORDER_CUSTOMER_VAULT_ADDR"]
        == f"127.0.0.1:{settings.customer_vault_grpc_port}"
    )

    # The credentials handed to customer_vault really log in.
    client = hvac.Client(url=customer_vault["FIELDVAULT_CUSTOMER_VAULT_VAULT_ADDR"])
    client.auth.approle.login(
        role_id=customer_vault["FIELDVAULT_CUSTOMER_VAULT_VAULT_ROLE_ID"],
        secret_id=customer_vault["FIELDVAULT_CUSTOMER_VAULT_VAULT_SECRET_ID"],
    )
    assert client.is_authenticated()


def test_each_service_gets_its_own_service_account_and_identity_only_their_hashes(
    settings: DevStackSettings, stacks: list[LocalStack]
) -> None:
    stack = LocalStack(settings)
    stacks.append(stack)
    endpoints = stack.start_infrastructure()
    secrets = endpoints.service_account_secrets
    assert set(secrets) == set(SERVICE_ACCOUNTS)
    assert len(set(secrets.values())) == len(secrets), "two services share a secret"
    identity_address = f"127.0.0.1:{settings.identity_grpc_port}"

    identity = stack.env_for("identity")
    assert json.loads(identity["FIELDVAULT_IDENTITY_SERVICE_ACCOUNT_SECRETS_SHA256"]) == {
        name: hashlib.sha256(secret.encode()).hexdigest() for name, secret in secrets.items()
    }
    # Invitation links open the field app's page.
    assert identity["FIELDVAULT_IDENTITY_PUBLIC_BASE_URL"] == (
        f"http://127.0.0.1:{settings.web_port}"
    )
    for service in SERVICE_ACCOUNTS:
        env = stack.env_for(service)
        prefix = f"FIELDVAULT_{service.upper()}_"
        assert env[f"{prefix}SERVICE_ACCOUNT_SECRET"] == secrets[service]
        assert env[f"{prefix}IDENTITY_ADDR"] == identity_address
        others = {secret for name, secret in secrets.items() if name != service}
        assert not others & set(env.values()), f"{service} sees another service's secret"
        if service != "identity":
            assert not any(name.startswith("FIELDVAULT_IDENTITY_") for name in env)

    gateway = stack.env_for("gateway")
    assert gateway["FIELDVAULT_GATEWAY_NATS_URL"] == endpoints.nats_url
    assert gateway["FIELDVAULT_GATEWAY_IDENTITY_ADDR"] == identity_address
    assert not set(secrets.values()) & set(gateway.values())

    # The field app reaches the gateway and NATS, and holds no credential at all.
    web = stack.env_for("web")
    assert web["FIELDVAULT_WEB_GATEWAY_URL"] == endpoints.gateway_url
    assert web["FIELDVAULT_WEB_NATS_URL"] == endpoints.nats_url
    assert web["FIELDVAULT_WEB_PORT"] == str(settings.web_port)
    assert not set(secrets.values()) & set(web.values())
    own = [name for name in web if name.startswith("FIELDVAULT_WEB_")]
    assert not [name for name in own if "SECRET" in name or "_VAULT_" in name], own
