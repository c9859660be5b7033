"""OpenBao as the stack runs it: persistent, auto-unsealed, audited, least privilege."""

from __future__ import annotations

import base64
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import hvac
import hvac.exceptions
import pytest

from fieldvault_devstack.openbao import OpenBaoServer

pytestmark = pytest.mark.integration


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_openbao_restart_keeps_transit_keys_and_kv_data(
    openbao_factory: Callable[..., OpenBaoServer],
) -> None:
    server = openbao_factory()
    client = server.client()
    client.secrets.transit.create_key(name="fv-tenant-restart", key_type="aes256-gcm96")
    ciphertext = client.secrets.transit.encrypt_data(
        name="fv-tenant-restart", plaintext=_b64(b"door code 4711")
    )["data"]["ciphertext"]
    client.secrets.kv.v2.create_or_update_secret(
        path="customer_vault/restart", secret={"note": "kept"}, mount_point="kv"
    )

    server.stop()
    server.start()  # must unseal itself from the key file

    client = server.client()
    assert client.sys.is_sealed() is False
    plaintext = client.secrets.transit.decrypt_data(
        name="fv-tenant-restart", ciphertext=ciphertext
    )["data"]["plaintext"]
    assert base64.b64decode(plaintext) == b"door code 4711"
    stored = client.secrets.kv.v2.read_secret_version(
        path="customer_vault/restart", mount_point="kv", raise_on_deleted_version=True
    )
    assert stored["data"]["data"] == {"note": "kept"}


def test_unseal_key_root_token_and_approle_credentials_are_owner_only(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    assert set(openbao_credentials) == {"identity", "customer_vault"}
    secret_files = [
        openbao.unseal_key_file,
        openbao.root_token_file,
        *(openbao.data_dir / "credentials").iterdir(),
    ]
    assert len(secret_files) == 6
    for path in secret_files:
        assert _mode(path) == 0o600, path


def test_audit_log_records_requests_but_never_a_plaintext_secret(openbao: OpenBaoServer) -> None:
    canary = f"canary-door-code-{secrets.token_hex(8)}"
    client = openbao.client()
    client.secrets.kv.v2.create_or_update_secret(
        path="customer_vault/audit-canary", secret={"door_code": canary}, mount_point="kv"
    )
    read_back = client.secrets.kv.v2.read_secret_version(
        path="customer_vault/audit-canary", mount_point="kv", raise_on_deleted_version=True
    )
    assert read_back["data"]["data"]["door_code"] == canary
    # The audit device stores HMACs of values; the hash of the canary proves it
    # was logged as a hash rather than dropped.
    canary_hash = client.sys.calculate_hash(path="file", input_to_hash=canary)["data"]["hash"]

    deadline = time.monotonic() + 5
    audit_text = ""
    while time.monotonic() < deadline and canary_hash not in audit_text:
        audit_text = openbao.audit_log.read_text()
        time.sleep(0.05)

    assert "kv/data/customer_vault/audit-canary" in audit_text
    assert canary_hash in audit_text
    assert canary not in audit_text


def _login(addr: str, credentials: tuple[str, str]) -> tuple[hvac.Client, dict[str, object]]:
    client = hvac.Client(url=addr)
    role_id, secret_id = credentials
    auth: dict[str, object] = client.auth.approle.login(role_id=role_id, secret_id=secret_id)[
        "auth"
    ]
    return client, auth


def test_customer_vault_approle_can_encrypt_tenant_data_but_nothing_else(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    client, auth = _login(openbao.addr, openbao_credentials["customer_vault"])
    assert auth["renewable"] is True
    assert auth["lease_duration"] == 3600
    assert "root" not in auth["policies"]  # type: ignore[operator]

    client.secrets.transit.create_key(name="fv-tenant-x")
    ciphertext = client.secrets.transit.encrypt_data(
        name="fv-tenant-x", plaintext=_b64(b"alarm 1234")
    )["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:")
    client.secrets.kv.v2.create_or_update_secret(
        path="customer_vault/own", secret={"ok": "yes"}, mount_point="kv"
    )

    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="identity/signing", mount_point="kv", raise_on_deleted_version=True
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.transit.sign_data(name="fv-identity-jwt", hash_input=_b64(b"claims"))
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.list_mounted_secrets_engines()
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.create_or_update_policy(
            name="escalate", policy='path "*" { capabilities = ["sudo"] }'
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.transit.delete_key(name="fv-tenant-x")


def test_identity_approle_cannot_decrypt_customer_data(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> None:
    root = openbao.client()
    root.secrets.transit.create_key(name="fv-tenant-y")
    ciphertext = root.secrets.transit.encrypt_data(
        name="fv-tenant-y", plaintext=_b64(b"key safe 99")
    )["data"]["ciphertext"]

    client, _ = _login(openbao.addr, openbao_credentials["identity"])
    client.secrets.transit.create_key(name="fv-identity-jwt", key_type="ed25519")
    signature = client.secrets.transit.sign_data(name="fv-identity-jwt", hash_input=_b64(b"claims"))
    assert signature["data"]["signature"].startswith("vault:v1:")

    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.transit.decrypt_data(name="fv-tenant-y", ciphertext=ciphertext)
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="customer_vault/own", mount_point="kv", raise_on_deleted_version=True
        )
