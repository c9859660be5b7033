"""The Vault wrapper against a real OpenBao: each auth method it can test here,
Transit and KV round trips, re-login, and clear unavailability."""

from __future__ import annotations

from collections.abc import Mapping

import hvac
import pytest

from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.settings import VaultSettings
from fieldvault_platform.vault import VaultClient, VaultRefused

pytestmark = pytest.mark.integration

CANARY = b"CANARY-door-code-1234#"


def _approle(openbao: OpenBaoServer, credentials: Mapping[str, tuple[str, str]]) -> VaultClient:
    role_id, secret_id = credentials["customer_vault"]
    return VaultClient(
        VaultSettings(
            environment="development",
            vault_addr=openbao.addr,
            vault_auth_method="approle",
            vault_role_id=role_id,
            vault_secret_id=secret_id,
        )
    )


async def test_transit_round_trip_and_data_keys_with_approle(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    vault = _approle(openbao, openbao_credentials)
    key = await vault.ensure_transit_key("fv-tenant-vaulttest")
    assert key.latest_version == 1
    assert not (await vault.ensure_transit_key("fv-tenant-vaulttest")).created

    ciphertext = await vault.encrypt("fv-tenant-vaulttest", CANARY)
    assert ciphertext.startswith("vault:v1:") and CANARY.decode() not in ciphertext
    assert await vault.decrypt("fv-tenant-vaulttest", ciphertext) == CANARY

    data_key = await vault.generate_data_key("fv-tenant-vaulttest")
    assert len(data_key.plaintext) == 32
    assert await vault.decrypt("fv-tenant-vaulttest", data_key.wrapped) == data_key.plaintext
    assert data_key.plaintext.hex() not in repr(data_key)


async def test_kv_round_trip_within_the_services_own_subtree(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    vault = _approle(openbao, openbao_credentials)
    assert await vault.read_kv("customer_vault/missing") is None
    await vault.write_kv("customer_vault/blind-index", {"version": 1})
    assert await vault.read_kv("customer_vault/blind-index") == {"version": 1}


async def test_a_path_outside_the_policy_is_refused_without_leaking_the_value(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    vault = _approle(openbao, openbao_credentials)
    with pytest.raises(VaultRefused) as refused:
        await vault.write_kv("identity/stolen", {"value": CANARY.decode()})
    assert "policy" in refused.value.message
    assert CANARY.decode() not in str(refused.value)


async def test_an_expired_or_revoked_token_is_replaced_by_logging_in_again(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    vault = _approle(openbao, openbao_credentials)
    await vault.ensure_transit_key("fv-tenant-relogin")
    # Revoke the service's current token behind its back, as expiry would.
    token = vault._client.token
    hvac.Client(url=openbao.addr, token=openbao.root_token).auth.token.revoke(token)
    ciphertext = await vault.encrypt("fv-tenant-relogin", CANARY)
    assert await vault.decrypt("fv-tenant-relogin", ciphertext) == CANARY
    assert vault._client.token != token


async def test_token_auth(openbao: OpenBaoServer) -> None:
    root = hvac.Client(url=openbao.addr, token=openbao.root_token)
    token = root.auth.token.create(policies=["fieldvault-customer-vault"], ttl="10m")["auth"][
        "client_token"
    ]
    vault = VaultClient(
        VaultSettings(
            environment="development",
            vault_addr=openbao.addr,
            vault_auth_method="token",
            vault_token=token,
        )
    )
    assert (await vault.ensure_transit_key("fv-tenant-tokenauth")).name == "fv-tenant-tokenauth"
    assert await vault.is_available()


async def test_an_unreachable_vault_is_unavailable_with_a_clear_message() -> None:
    vault = VaultClient(
        VaultSettings(
            environment="development",
            vault_addr=f"http://127.0.0.1:{free_port()}",
            vault_auth_method="token",
            vault_token="s.unused",
        )
    )
    with pytest.raises(
        Unavailable, match=r"^Vault is unavailable: cannot reach it \(transit.encrypt\)$"
    ):
        await vault.encrypt("fv-tenant-x", CANARY)
    assert not await vault.is_available()
