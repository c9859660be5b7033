"""Shared by customer-vault's tests: the running service, tokens signed with identity's
real key (from its Transit key in the test OpenBao), and shortcuts for common steps.

Tokens are minted here rather than obtained by logging in, so a test can give a
caller any roles, areas and organisation cheaply; they are signed exactly as
identity signs them and customer-vault verifies them against identity's JWKS.
``conftest.py`` puts this directory on ``sys.path``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import jwt
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import SecretStr
from sqlalchemy import text

from customer_vault.messages import kind_name
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import (
    BREAK_GLASS,
    STEP_UP_TOKEN_TYPE,
    STEP_UP_TTL_SECONDS,
    bearer_metadata,
)
from fieldvault_platform.db import Database
from fieldvault_platform.settings import VaultSettings
from fieldvault_platform.vault import VaultClient
from identity.auth.tokens import client_claims, mint, scope_claim, service_claims
from identity.scopes import scopes_for_roles
from identity.signing import TokenSigner

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
Metadata = tuple[tuple[str, str], ...]
OWN_ORG = "org-own"
TIMEOUT = 15


def identity_signer(openbao: OpenBaoServer, credentials: dict[str, tuple[str, str]]) -> TokenSigner:
    """identity's own signer (its AppRole, its Transit key): tokens only identity could sign."""
    role_id, secret_id = credentials["identity"]
    settings = VaultSettings(
        environment="development",  # type: ignore[arg-type]
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=SecretStr(secret_id),
    )
    return TokenSigner(VaultClient(settings))


def vault_settings(
    *,
    database_url: str,
    identity: IdentityProcess,
    openbao: OpenBaoServer,
    credentials: Mapping[str, tuple[str, str]],
    **overrides: object,
) -> Settings:
    role_id, secret_id = credentials["customer_vault"]
    values: dict[str, object] = {
        "environment": "development",
        "grpc_port": free_port(),
        "database_url": database_url,
        "nats_url": identity.nats_url,
        "vault_addr": openbao.addr,
        "vault_role_id": role_id,
        "vault_secret_id": secret_id,
        "identity_addr": identity.addr,
        "service_account_secret": identity.service_account_secrets["customer_vault"],
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class TokenMint:
    signer: TokenSigner

    async def _sign(self, claims: dict[str, object]) -> Metadata:
        issued = await mint(
            self.signer,
            claims,
            audience="customer_vault",
            ttl_seconds=300,
            now=datetime.now(UTC),
        )
        return tuple(bearer_metadata(issued.token))

    async def user(
        self,
        tenant_id: str,
        *,
        roles: Sequence[str],
        areas: Iterable[str] = (),
        organization_id: str = OWN_ORG,
        user_id: str | None = None,
    ) -> Metadata:
        return await self._sign(
            {
                "sub": user_id or f"user-{uuid.uuid4().hex[:12]}",
                "tid": tenant_id,
                "org": organization_id,
                "roles": sorted(roles),
                "areas": sorted(areas),
                "scope": scope_claim(scopes_for_roles(roles)),
                "sid": uuid.uuid4().hex,
                "amr": ["pwd"],
            }
        )

    async def step_up(self, caller: Metadata, *, site_id: str, kind: int) -> str:
        """Identity's break-glass step-up token for the user of ``caller`` (as if the
        tenant's policy asked for no code; identity's own tests cover the code)."""
        claims = jwt.decode(
            dict(caller)["authorization"].removeprefix("Bearer "),
            options={"verify_signature": False},
        )
        issued = await mint(
            self.signer,
            {
                "sub": claims["sub"],
                "tid": claims["tid"],
                "sid": claims["sid"],
                "purpose": BREAK_GLASS,
                "target": {"site_id": site_id, "kind": kind_name(kind)},
                "amr": [],
            },
            audience="customer_vault",
            ttl_seconds=STEP_UP_TTL_SECONDS,
            now=datetime.now(UTC),
            token_type=STEP_UP_TOKEN_TYPE,
        )
        return issued.token

    async def client(self, tenant_id: str, scopes: Iterable[str]) -> Metadata:
        return await self._sign(
            client_claims(client_id=uuid.uuid4().hex[:12], tenant_id=tenant_id, scopes=scopes)
        )

    async def service(
        self,
        service: str,
        tenant_id: str | None,
        scopes: Iterable[str],
        *,
        acting_user: str | None = None,
    ) -> Metadata:
        actor = None
        if acting_user is not None and tenant_id is not None:
            actor = {"sub": acting_user, "tid": tenant_id, "roles": ["dispatcher"]}
        return await self._sign(
            service_claims(service=service, scopes=scopes, tenant_id=tenant_id, actor=actor)
        )

    async def work_order(self, tenant_id: str, *, acting_user: str | None = None) -> Metadata:
        return await self.service(
            "work_order", tenant_id, ["grants:write"], acting_user=acting_user
        )


@dataclass
class RunningVault:
    target: str
    stub: customer_vault_pb2_grpc.CustomerVaultServiceStub
    settings: Settings
    #: The service's database, for checks of what was stored (and tampering).
    database: Database
    mint: TokenMint
    openbao: OpenBaoServer


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    for key, value in error.trailing_metadata() or ():
        if key == "fieldvault-error-code":
            return str(value)
    return None


@dataclass
class Place:
    """A customer with one site in an area, as a dispatcher of that area created them."""

    tenant_id: str
    area_id: str
    customer: pb.Customer
    site: pb.Site
    dispatcher: Metadata


async def new_place(
    vault: RunningVault,
    tenant_id: str,
    *,
    area_id: str = "area-north",
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    phone: str = "+44 20 7946 0000",
    door_code: str | None = "DOOR-4711-CANARY",
) -> Place:
    dispatcher = await vault.mint.user(tenant_id, roles=["dispatcher"], areas=[area_id])
    customer = (
        await vault.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                area_id=area_id, name=name, email=email, phone=phone, address="1 Harbour Road"
            ),
            metadata=dispatcher,
            timeout=TIMEOUT,
        )
    ).customer
    site = (
        await vault.stub.CreateSite(
            pb.CreateSiteRequest(
                customer_id=customer.id,
                area_id=area_id,
                name="Harbour House",
                address="1 Harbour Road, Portsmouth",
                access_instructions="Side door, ring twice",
            ),
            metadata=dispatcher,
            timeout=TIMEOUT,
        )
    ).site
    if door_code is not None:
        await vault.stub.PutSecret(
            pb.PutSecretRequest(site_id=site.id, kind=pb.SECRET_KIND_DOOR_CODE, value=door_code),
            metadata=dispatcher,
            timeout=TIMEOUT,
        )
    return Place(tenant_id, area_id, customer, site, dispatcher)


async def grant(
    vault: RunningVault,
    place: Place,
    *,
    user_id: str = "",
    organization_id: str = OWN_ORG,
    subcontractor: bool = False,
    fields: Sequence[str] = ("door_code",),
    work_order_id: str | None = None,
    hours: float = 8,
) -> pb.CreateGrantResponse:
    now = datetime.now(UTC)
    response: pb.CreateGrantResponse = await vault.stub.CreateGrant(
        pb.CreateGrantRequest(
            site_id=place.site.id,
            user_id=user_id,
            organization_id=organization_id,
            subcontractor=subcontractor,
            fields=list(fields),
            work_order_id=work_order_id or f"wo-{uuid.uuid4().hex[:10]}",
            valid_from=timestamp(now - timedelta(minutes=5)),
            valid_until=timestamp(now + timedelta(hours=hours)),
        ),
        metadata=await vault.mint.work_order(place.tenant_id, acting_user="dispatcher-1"),
        timeout=TIMEOUT,
    )
    return response


async def reveal(
    vault: RunningVault,
    site_id: str,
    caller: Metadata,
    *,
    kind: int = pb.SECRET_KIND_DOOR_CODE,
    break_glass: bool = False,
    reason: str = "",
    step_up_token: str | None = None,
) -> pb.RevealSecretResponse:
    """A reveal; a break-glass one carries a valid step-up token unless one is given."""
    if break_glass and step_up_token is None:
        step_up_token = await vault.mint.step_up(caller, site_id=site_id, kind=kind)
    response: pb.RevealSecretResponse = await vault.stub.RevealSecret(
        pb.RevealSecretRequest(
            site_id=site_id,
            kind=kind,
            break_glass=break_glass,
            reason=reason,
            step_up_token=step_up_token or "",
        ),
        metadata=caller,
        timeout=TIMEOUT,
    )
    return response


def new_tenant_id() -> str:
    return f"tenant-{uuid.uuid4().hex[:10]}"


async def published(
    nats_url: str, tenant_id: str, event: str, *, count: int = 1, timeout: float = 5.0
) -> list[bytes]:
    """Payloads of customer-vault's ``event`` for one tenant, read back from JetStream.

    Waits until ``count`` are there (the outbox relay publishes after the
    commit), then returns every one found, so a test also sees extra copies.
    """
    import asyncio

    import nats
    from nats.js.api import DeliverPolicy

    subject = f"fieldvault.{tenant_id}.customer_vault.v1.{event}"
    client = await nats.connect(nats_url)
    try:
        jetstream = client.jetstream()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            subscription = await jetstream.subscribe(
                subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
            )
            payloads: list[bytes] = []
            try:
                while True:
                    message = await subscription.next_msg(timeout=0.3)
                    payloads.append(message.data)
            except nats.errors.TimeoutError:
                pass
            finally:
                await subscription.unsubscribe()
            if len(payloads) >= count or asyncio.get_running_loop().time() > deadline:
                return payloads
            await asyncio.sleep(0.2)
    finally:
        await client.close()


async def audit_events(vault: RunningVault, tenant_id: str, **filters: str) -> list[pb.AuditEvent]:
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    response = await vault.stub.ListAuditEvents(
        pb.ListAuditEventsRequest(page_size=200, **filters), metadata=auditor, timeout=TIMEOUT
    )
    return list(response.events)


async def stored_bytes(vault: RunningVault, tmp_database_file: Path | None) -> bytes:
    """Everything the database holds, as raw bytes (SQLite files, or every PostgreSQL row)."""
    if vault.database.engine.dialect.name == "sqlite":
        assert tmp_database_file is not None
        return b"".join(
            path.read_bytes()
            for path in tmp_database_file.parent.glob(tmp_database_file.name + "*")
        )
    chunks: list[bytes] = []
    async with vault.database.engine.connect() as connection:
        tables = (
            await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).scalars()
        for table in list(tables):
            # Table names come from the catalogue, not from input.
            query = text(f'SELECT t::text FROM "{table}" t')  # noqa: S608
            rows = await connection.execute(query)
            chunks.extend(str(row[0]).encode() for row in rows)
    return b"\n".join(chunks)


def database_file(url: str) -> Path | None:
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite") else None
