"""deploy/vault: the production Vault setup, generated from the local stack's policies.

The committed files must be exactly what the renderer writes, so production
can never drift from the least-privilege policies the tests run with; and the
setup script must really configure an OpenBao server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from customer_vault.settings import Settings as CustomerVaultSettings
from fieldvault_devstack._process import find_binary
from fieldvault_devstack.openbao import TOKEN_MAX_TTL_SECONDS, TOKEN_TTL_SECONDS, OpenBaoServer
from fieldvault_devstack.policies import (
    KUBERNETES_TOKEN_MAX_TTL,
    KUBERNETES_TOKEN_TTL,
    RENDER_COMMAND,
    SERVICE_POLICIES,
    kubernetes_role,
    policy_name,
    render_documentation,
    service_account,
)
from fieldvault_platform.settings import VaultSettings
from gateway.settings import GatewaySettings
from identity.settings import Settings as IdentitySettings
from notification.settings import Settings as NotificationSettings
from work_order.settings import Settings as WorkOrderSettings

ROOT = Path(__file__).resolve().parents[2]
VAULT_DIR = ROOT / "deploy" / "vault"

SETTINGS = {
    "identity": IdentitySettings,
    "customer_vault": CustomerVaultSettings,
    "work_order": WorkOrderSettings,
    "notification": NotificationSettings,
    "gateway": GatewaySettings,
}


def committed_files() -> dict[str, str]:
    return {
        str(path.relative_to(VAULT_DIR)): path.read_text()
        for path in sorted(VAULT_DIR.rglob("*"))
        if path.is_file()
    }


def test_committed_vault_files_are_what_the_renderer_writes() -> None:
    # On failure: run the command in deploy/vault/README.md and commit the result.
    assert committed_files() == render_documentation()


def test_the_regenerate_command_writes_the_committed_files(tmp_path: Path) -> None:
    arguments = RENDER_COMMAND.split()
    assert arguments[:3] == ["python", "-m", "fieldvault_devstack.policies"]
    subprocess.run(
        [sys.executable, *arguments[1:-1], str(tmp_path)], check=True, capture_output=True
    )
    written = {
        str(path.relative_to(tmp_path)): path.read_text()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }
    assert written == committed_files()
    assert RENDER_COMMAND in (VAULT_DIR / "README.md").read_text()
    assert os.access(tmp_path / "setup.sh", os.X_OK)


def test_setup_script_is_executable_bash() -> None:
    script = VAULT_DIR / "setup.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_only_services_that_use_vault_have_a_policy() -> None:
    uses_vault = {name for name, cls in SETTINGS.items() if issubclass(cls, VaultSettings)}
    assert uses_vault == {"identity", "customer_vault"}
    assert set(SERVICE_POLICIES) == uses_vault
    assert {p.stem for p in (VAULT_DIR / "policies").glob("*.hcl")} == uses_vault


def test_setup_script_creates_a_role_only_for_services_that_use_vault() -> None:
    script = (VAULT_DIR / "setup.sh").read_text()
    roles = set(re.findall(r"auth/kubernetes/role/([\w-]+)", script))
    written = set(re.findall(r"policy write ([\w-]+)", script))
    assert roles == {kubernetes_role(s) for s in SERVICE_POLICIES}
    assert written == {policy_name(s) for s in SERVICE_POLICIES}
    for other in set(SETTINGS) - set(SERVICE_POLICIES):
        assert policy_name(other) not in script


def test_production_tokens_live_as_long_as_the_local_stack_tokens() -> None:
    assert _seconds(KUBERNETES_TOKEN_TTL) == TOKEN_TTL_SECONDS
    assert _seconds(KUBERNETES_TOKEN_MAX_TTL) == TOKEN_MAX_TTL_SECONDS


def test_vault_readme_tells_how_to_declare_the_audit_device() -> None:
    readme = " ".join((VAULT_DIR / "README.md").read_text().split())
    assert 'audit "file" "stdout" {' in readme
    assert "refuses to enable audit devices through the API" in readme
    assert "declare them in the server configuration" in readme


@pytest.mark.integration
def test_setup_script_configures_a_real_openbao(
    openbao_factory: Callable[..., OpenBaoServer], tmp_path: Path
) -> None:
    server = openbao_factory(bootstrap=False)
    # Vault outside a cluster: the cluster's CA and a reviewer token, as files.
    ca_cert = tmp_path / "ca.crt"
    ca_cert.write_bytes(_self_signed_certificate())
    reviewer_jwt = tmp_path / "reviewer.jwt"
    reviewer_jwt.write_text("header.payload.signature")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "VAULT_CLI": find_binary("bao"),
        "BAO_ADDR": server.addr,
        "BAO_TOKEN": server.root_token,
        "KUBERNETES_HOST": "https://kubernetes.default.svc:443",
        "KUBERNETES_CA_CERT": str(ca_cert),
        "TOKEN_REVIEWER_JWT": str(reviewer_jwt),
        "NAMESPACE": "fieldvault-test",
    }
    for _ in range(2):  # idempotent: a second run changes nothing and does not fail
        result = subprocess.run(
            ["bash", str(VAULT_DIR / "setup.sh")], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

    client = server.client()
    assert {"transit/", "kv/"} <= set(client.sys.list_mounted_secrets_engines()["data"])
    assert "kubernetes/" in client.sys.list_auth_methods()["data"]
    for service, policy in SERVICE_POLICIES.items():
        stored = client.sys.read_policy(name=policy_name(service))["data"]["rules"]
        assert stored == (VAULT_DIR / "policies" / f"{service}.hcl").read_text()
        assert policy in stored
        role = client.read(f"auth/kubernetes/role/{kubernetes_role(service)}")["data"]
        assert role["bound_service_account_names"] == [service_account(service)]
        assert role["bound_service_account_namespaces"] == ["fieldvault-test"]
        assert role["token_policies"] == [policy_name(service)]
        assert role["token_ttl"] == _seconds(KUBERNETES_TOKEN_TTL)
        assert role["token_max_ttl"] == _seconds(KUBERNETES_TOKEN_MAX_TTL)
    roles = client.list("auth/kubernetes/role")["data"]["keys"]
    assert sorted(roles) == sorted(kubernetes_role(s) for s in SERVICE_POLICIES)
    config = client.read("auth/kubernetes/config")["data"]
    assert config["kubernetes_host"] == env["KUBERNETES_HOST"]
    assert config["kubernetes_ca_cert"] == ca_cert.read_text()


def _self_signed_certificate() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-ca")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]
