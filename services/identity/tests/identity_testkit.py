"""Shared by identity's tests (and other services' tests that need a real identity):
the running service's handle, its settings, and seeding shortcuts.

``conftest.py`` puts this directory on ``sys.path``; the module name is unique
so that it cannot shadow another test helper.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.db import Database
from fieldvault_platform.vault import VaultClient
from identity.keyed_hash import keyed_hash
from identity.models import ApiClient, Organization, Tenant, User
from identity.passwords import hash_password
from identity.scopes import DEFAULT_MFA_REQUIRED_ROLES
from identity.settings import Settings


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class RunningIdentity:
    """The service under test and the credentials the deployment gave it."""

    target: str
    stub: identity_pb2_grpc.IdentityServiceStub
    settings: Settings
    #: Its database, for assertions on what was stored.
    database: Database
    operator_token: str
    #: Service account name → its secret (identity knows only the hashes).
    service_secrets: dict[str, str]


def identity_settings(
    *,
    database_url: str,
    nats_url: str,
    openbao: OpenBaoServer,
    credentials: Mapping[str, tuple[str, str]],
    operator_token: str,
    service_secrets: Mapping[str, str],
    **overrides: object,
) -> Settings:
    role_id, secret_id = credentials["identity"]
    values: dict[str, object] = {
        "environment": "development",
        "grpc_port": free_port(),
        "database_url": database_url,
        "nats_url": nats_url,
        "vault_addr": openbao.addr,
        "vault_auth_method": "approle",
        "vault_role_id": role_id,
        "vault_secret_id": secret_id,
        "operator_token_sha256": _sha256(operator_token),
        "service_account_secrets_sha256": {
            name: _sha256(secret) for name, secret in service_secrets.items()
        },
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


PASSWORD = "correct horse battery staple 42"


@dataclass
class Seeded:
    tenant_id: str
    slug: str
    organization_id: str
    user_id: str
    email: str


async def seed_user(
    identity: RunningIdentity,
    *,
    roles: list[str] | None = None,
    password: str = PASSWORD,
    slug: str | None = None,
    mfa_required_roles: list[str] | None = None,
) -> Seeded:
    """A tenant with its own organisation and one active user with ``password``."""
    now = datetime.now(UTC)
    slug = slug or f"t-{uuid.uuid4().hex[:8]}"
    tenant_id, org_id, user_id = (str(uuid.uuid4()) for _ in range(3))
    email = f"user-{uuid.uuid4().hex[:6]}@example.com"
    password_hash = await asyncio.to_thread(hash_password, password)
    async with identity.database.unit_of_work() as session:
        session.add(
            Tenant(
                id=tenant_id,
                slug=slug,
                name=f"Tenant {slug}",
                mfa_required_roles=list(
                    DEFAULT_MFA_REQUIRED_ROLES if mfa_required_roles is None else mfa_required_roles
                ),
                created_at=now,
                version=1,
            )
        )
        await session.flush()
        session.add(
            Organization(
                id=org_id,
                tenant_id=tenant_id,
                name=f"Tenant {slug}",
                kind="own",
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        await session.flush()
        session.add(
            User(
                id=user_id,
                tenant_id=tenant_id,
                email=email,
                name="Test User",
                roles=roles or ["technician"],
                organization_id=org_id,
                status="active",
                password_hash=password_hash,
                totp_confirmed=False,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    return Seeded(tenant_id, slug, org_id, user_id, email)


async def seed_api_client(
    identity: RunningIdentity, *, tenant_id: str, scopes: list[str], secret: str
) -> str:
    """An API client of ``tenant_id`` with ``secret``; returns its client_id."""
    vault = VaultClient(identity.settings)
    client_id = f"fvc_{uuid.uuid4().hex[:24]}"
    secret_hash = await keyed_hash(vault, "api_client_secret", secret)
    async with identity.database.unit_of_work() as session:
        session.add(
            ApiClient(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                client_id=client_id,
                name="partner",
                scopes=scopes,
                secret_hash=secret_hash,
                created_at=datetime.now(UTC),
                created_by="test",
            )
        )
    return client_id


async def login(
    identity: RunningIdentity, seeded: Seeded, *, password: str = PASSWORD, **extra: Any
) -> pb.LoginResponse:
    return await identity.stub.Login(
        pb.LoginRequest(
            tenant=seeded.slug,
            email=seeded.email,
            password=password,
            source_address=extra.pop("source_address", "192.0.2.10"),
            **extra,
        )
    )


async def for_identity(identity: RunningIdentity, gateway_token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying ``gateway_token`` exchanged for audience identity."""
    exchanged = await identity.stub.ExchangeToken(
        pb.ExchangeTokenRequest(subject_token=gateway_token, audience="identity")
    )
    return bearer_metadata(exchanged.access_token)


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    for key, value in error.trailing_metadata() or ():
        if key == "fieldvault-error-code":
            return str(value)
    return None


async def admin_metadata(identity: RunningIdentity) -> tuple[Seeded, tuple[tuple[str, str]]]:
    """A tenant with an admin (no MFA policy, to keep tests short) and their call metadata."""
    admin = await seed_user(identity, roles=["admin"], mfa_required_roles=[])
    token = (await login(identity, admin)).access_token
    return admin, await for_identity(identity, token)


async def service_metadata(
    identity: RunningIdentity, *, service: str, audience: str = "identity", tenant_id: str = ""
) -> tuple[tuple[str, str]]:
    issued = await identity.stub.IssueServiceToken(
        pb.IssueServiceTokenRequest(
            service=service,
            secret=identity.service_secrets[service],
            audience=audience,
            tenant_id=tenant_id,
        )
    )
    return bearer_metadata(issued.access_token)
