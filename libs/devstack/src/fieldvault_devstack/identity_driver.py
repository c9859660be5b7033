"""Talking to a real identity service the way the gateway and the services do, for tests.

A tenant as the operator creates it (its admin signed up with a second
factor), people invited by that admin and signed in, subcontractors with DPA
dates, areas, service tokens and token exchange. Every step is a real RPC, so
what a test gets back is what production would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_platform.auth import bearer_metadata

PASSWORD = "correct horse battery staple 7f3a"  # noqa: S105 (every test user's password)
TIMEOUT = 10


def totp(secret: str, *, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s): what an authenticator app shows."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def invitation_token(url: str) -> str:
    """The token of an invitation link (``.../invitations/accept#token=...``)."""
    return parse_qs(urlsplit(url).fragment)["token"][0]


@dataclass
class Tenant:
    id: str
    slug: str
    #: The admin's token for identity (audience ``identity``), after enrolling TOTP.
    admin_identity_token: str


@dataclass
class Person:
    id: str
    email: str
    #: From Login: audience ``gateway``.
    gateway_token: str


@dataclass
class IdentityDriver:
    process: IdentityProcess
    stub: identity_pb2_grpc.IdentityServiceStub

    async def service_token(
        self,
        service: str,
        *,
        audience: str,
        scope: str,
        tenant_id: str = "",
        subject_token: str = "",
    ) -> str:
        response = await self.stub.IssueServiceToken(
            identity_pb2.IssueServiceTokenRequest(
                service=service,
                secret=self.process.service_account_secrets[service],
                audience=audience,
                scope=scope,
                tenant_id=tenant_id,
                subject_token=subject_token,
            ),
            timeout=TIMEOUT,
        )
        token: str = response.access_token
        return token

    async def exchange(self, gateway_token: str, audience: str) -> str:
        response = await self.stub.ExchangeToken(
            identity_pb2.ExchangeTokenRequest(subject_token=gateway_token, audience=audience),
            timeout=TIMEOUT,
        )
        token: str = response.access_token
        return token

    async def login(self, tenant: str, email: str, otp: str = "") -> identity_pb2.LoginResponse:
        response: identity_pb2.LoginResponse = await self.stub.Login(
            identity_pb2.LoginRequest(
                tenant=tenant, email=email, password=PASSWORD, otp=otp, source_address="127.0.0.1"
            ),
            timeout=TIMEOUT,
        )
        return response

    async def accept(self, url: str) -> None:
        await self.stub.AcceptInvitation(
            identity_pb2.AcceptInvitationRequest(token=invitation_token(url), password=PASSWORD),
            timeout=TIMEOUT,
        )

    async def new_tenant(self) -> Tenant:
        """A tenant as the operator creates it, its admin signed up with a second factor."""
        slug = f"t-{uuid.uuid4().hex[:12]}"
        created = await self.stub.CreateTenant(
            identity_pb2.CreateTenantRequest(
                slug=slug,
                name="Harbour Lifts Ltd",
                admin_email=f"admin@{slug}.example",
                admin_name="Ada",
            ),
            metadata=bearer_metadata(self.process.operator_token),
            timeout=30,
        )
        await self.accept(created.admin_invitation_url)
        admin = await self.sign_in(slug, created.admin_user.email)
        return Tenant(
            id=created.tenant.id,
            slug=slug,
            admin_identity_token=await self.exchange(admin, "identity"),
        )

    async def sign_in(self, slug: str, email: str) -> str:
        """A gateway token for the person, enrolling TOTP first where policy demands it."""
        first = await self.login(slug, email)
        if not first.mfa_enrollment_required:
            return str(first.access_token)
        enrol_token = await self.exchange(first.access_token, "identity")
        enrolled = await self.stub.EnrollTotp(
            identity_pb2.EnrollTotpRequest(), metadata=bearer_metadata(enrol_token), timeout=TIMEOUT
        )
        await self.stub.ConfirmTotp(
            identity_pb2.ConfirmTotpRequest(code=totp(enrolled.secret)),
            metadata=bearer_metadata(enrol_token),
            timeout=TIMEOUT,
        )
        # The next time step: the code just used for confirming is spent.
        signed_in = await self.login(slug, email, otp=totp(enrolled.secret, at=time.time() + 30))
        return str(signed_in.access_token)

    async def new_person(
        self,
        tenant: Tenant,
        *,
        roles: Sequence[str] = ("technician",),
        organization_id: str = "",
        area_ids: Sequence[str] = (),
    ) -> Person:
        """A person invited by the admin, the link delivered as notification would fetch it."""
        created = await self.stub.CreateUser(
            identity_pb2.CreateUserRequest(
                email=f"{roles[0]}-{uuid.uuid4().hex[:8]}@{tenant.slug}.example",
                name="Tess",
                roles=list(roles),
                organization_id=organization_id,
                area_ids=list(area_ids),
            ),
            metadata=bearer_metadata(tenant.admin_identity_token),
            timeout=TIMEOUT,
        )
        deliverer = await self.service_token(
            "notification", audience="identity", scope="invitations:deliver", tenant_id=tenant.id
        )
        link = await self.stub.GetInvitationLink(
            identity_pb2.GetInvitationLinkRequest(
                tenant_id=tenant.id, invitation_id=created.invitation_id
            ),
            metadata=bearer_metadata(deliverer),
            timeout=TIMEOUT,
        )
        await self.accept(link.url)
        return Person(
            id=created.user.id,
            email=created.user.email,
            gateway_token=await self.sign_in(tenant.slug, created.user.email),
        )

    async def new_area(self, tenant: Tenant, name: str) -> str:
        response = await self.stub.CreateArea(
            identity_pb2.CreateAreaRequest(name=name),
            metadata=bearer_metadata(tenant.admin_identity_token),
            timeout=TIMEOUT,
        )
        area_id: str = response.area.id
        return area_id

    async def new_subcontractor(
        self, tenant: Tenant, *, dpa_signed_on: str = "", dpa_expires_on: str = ""
    ) -> str:
        """A subcontractor organisation with these DPA dates (ISO days; empty: none)."""
        response = await self.stub.CreateOrganization(
            identity_pb2.CreateOrganizationRequest(
                name=f"Sub {uuid.uuid4().hex[:6]}",
                kind=identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR,
                dpa_signed_on=dpa_signed_on,
                dpa_expires_on=dpa_expires_on,
            ),
            metadata=bearer_metadata(tenant.admin_identity_token),
            timeout=TIMEOUT,
        )
        organization_id: str = response.organization.id
        return organization_id
