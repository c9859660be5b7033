"""Tenants, users and invitations through identity's gRPC API, against real OpenBao/NATS/DB."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from identity_testkit import (
    RunningIdentity,
    admin_metadata,
    error_code,
    for_identity,
    login,
    seed_user,
    service_metadata,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.events import OutboxEvent

pytestmark = pytest.mark.integration

PASSWORD = "a long and quiet river of letters"


async def _create_tenant(identity: RunningIdentity, slug: str) -> pb.CreateTenantResponse:
    return await identity.stub.CreateTenant(
        pb.CreateTenantRequest(
            slug=slug, name="Lift Service Oy", admin_email="Boss@Example.com", admin_name="Boss"
        ),
        metadata=bearer_metadata(identity.operator_token),
    )


def _token(url: str) -> str:
    return url.split("#token=", 1)[1]


async def _outbox(identity: RunningIdentity, event: str) -> list[bytes]:
    async with identity.database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.subject.like(f"%.{event}"))
        )
        return list(rows.all())


async def test_only_the_platform_operator_creates_tenants(identity: RunningIdentity) -> None:
    for metadata in (bearer_metadata("not-the-operator-token"), ()):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.CreateTenant(
                pb.CreateTenantRequest(
                    slug="acme", name="Acme", admin_email="a@acme.example", admin_name="A"
                ),
                metadata=metadata,
            )
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    created = await _create_tenant(identity, "acme")
    assert created.tenant.slug == "acme"
    assert list(created.tenant.mfa_required_roles) == ["admin", "auditor", "dpo"]
    assert created.admin_user.email == "boss@example.com"
    assert created.admin_user.status == pb.USER_STATUS_INVITED
    assert created.admin_invitation_url.startswith(
        "http://127.0.0.1:8080/invitations/accept#token="
    )

    with pytest.raises(grpc.aio.AioRpcError) as again:
        await _create_tenant(identity, "acme")
    assert error_code(again.value) == "tenant_exists"


async def test_an_invitation_works_once_and_the_invitee_chooses_the_password(
    identity: RunningIdentity,
) -> None:
    created = await _create_tenant(identity, "lifts")
    token = _token(created.admin_invitation_url)

    with pytest.raises(grpc.aio.AioRpcError) as weak:
        await identity.stub.AcceptInvitation(
            pb.AcceptInvitationRequest(token=token, password="lifts password")
        )
    assert weak.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # Two racing accepts: exactly one sets the password.
    results = await asyncio.gather(
        identity.stub.AcceptInvitation(pb.AcceptInvitationRequest(token=token, password=PASSWORD)),
        identity.stub.AcceptInvitation(pb.AcceptInvitationRequest(token=token, password=PASSWORD)),
        return_exceptions=True,
    )
    accepted = [r for r in results if isinstance(r, pb.AcceptInvitationResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(accepted) == 1 and len(refused) == 1
    assert error_code(refused[0]) == "invitation_invalid"
    assert accepted[0].user.status == pb.USER_STATUS_ACTIVE

    login_response = await identity.stub.Login(
        pb.LoginRequest(tenant="lifts", email="boss@example.com", password=PASSWORD)
    )
    assert login_response.mfa_enrollment_required  # admins must enrol a second factor

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (token, tampered, "nonsense"):
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await identity.stub.AcceptInvitation(
                pb.AcceptInvitationRequest(token=bad, password=PASSWORD)
            )
        assert error_code(invalid.value) == "invitation_invalid"


async def test_accepting_an_invitation_forgets_the_failed_sign_ins_counted_against_it(
    identity: RunningIdentity,
) -> None:
    from identity.models import LoginThrottle
    from identity.throttling import ACCOUNT, ACCOUNT_POLICY, _digest, account_key

    created = await _create_tenant(identity, "guessed")

    async def account_counters() -> int:
        async with identity.database.unit_of_work() as session:
            key = _digest(ACCOUNT, account_key(tenant_id="guessed", email="boss@example.com"))
            rows = await session.scalars(
                select(LoginThrottle).where(
                    LoginThrottle.scope == ACCOUNT, LoginThrottle.key == key
                )
            )
            return len(rows.all())

    # Someone guesses at the invitee's password before they have set one.
    for _ in range(ACCOUNT_POLICY.free_failures):
        with pytest.raises(grpc.aio.AioRpcError):
            await identity.stub.Login(
                pb.LoginRequest(tenant="guessed", email="boss@example.com", password="guess")
            )
    assert await account_counters() == 1

    await identity.stub.AcceptInvitation(
        pb.AcceptInvitationRequest(token=_token(created.admin_invitation_url), password=PASSWORD)
    )
    assert await account_counters() == 0


async def test_an_expired_invitation_is_refused(identity: RunningIdentity) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from identity.models import Invitation

    created = await _create_tenant(identity, "expiring")
    async with identity.database.unit_of_work() as session:
        await session.execute(
            update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.AcceptInvitation(
            pb.AcceptInvitationRequest(
                token=_token(created.admin_invitation_url), password=PASSWORD
            )
        )
    assert error_code(refused.value) == "invitation_invalid"


async def test_only_notification_fetches_invitation_links(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    created = await identity.stub.CreateUser(
        pb.CreateUserRequest(email="tech@example.com", name="Tech", roles=["technician"]),
        metadata=metadata,
    )
    request = pb.GetInvitationLinkRequest(
        tenant_id=admin.tenant_id, invitation_id=created.invitation_id
    )
    for caller in (
        metadata,  # an admin user
        await service_metadata(identity, service="work_order", tenant_id=admin.tenant_id),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.GetInvitationLink(request, metadata=caller)
        assert refused.value.code() in (
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.UNAUTHENTICATED,
        )
    notification = await service_metadata(
        identity, service="notification", tenant_id=admin.tenant_id
    )
    link = await identity.stub.GetInvitationLink(request, metadata=notification)
    assert link.user_id == created.user.id
    accepted = await identity.stub.AcceptInvitation(
        pb.AcceptInvitationRequest(token=_token(link.url), password=PASSWORD)
    )
    assert accepted.user.id == created.user.id


async def test_invitation_tokens_appear_in_no_log_event_or_span(
    identity: RunningIdentity, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await _create_tenant(identity, "canary")
    token = _token(created.admin_invitation_url)
    await identity.stub.AcceptInvitation(pb.AcceptInvitationRequest(token=token, password=PASSWORD))
    mac = token.split(".", 1)[1]

    assert mac not in caplog.text
    payloads = await _outbox(identity, "user_invited")
    assert payloads and all(mac.encode() not in payload for payload in payloads)
    invited = events_pb.UserInvited.FromString(payloads[0])
    assert invited.user_id == created.admin_user.id
    for span in spans.get_finished_spans():
        for value in (span.attributes or {}).values():
            assert mac not in str(value)


async def test_subcontractor_people_stay_in_their_lane(identity: RunningIdentity) -> None:
    _, metadata = await admin_metadata(identity)
    sub = await identity.stub.CreateOrganization(
        pb.CreateOrganizationRequest(
            name="Sub Oy",
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on="2026-01-01",
            dpa_expires_on="2030-12-31",
        ),
        metadata=metadata,
    )
    assert sub.organization.dpa_active
    cases = [
        (["dispatcher"], sub.organization.id),
        (["subcontractor_manager"], ""),  # own organisation
    ]
    for roles, organization_id in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.CreateUser(
                pb.CreateUserRequest(
                    email=f"{roles[0]}@example.com",
                    name="X",
                    roles=roles,
                    organization_id=organization_id,
                ),
                metadata=metadata,
            )
        assert error_code(refused.value) == "role_not_allowed"
    manager = await identity.stub.CreateUser(
        pb.CreateUserRequest(
            email="m@sub.example",
            name="M",
            roles=["subcontractor_manager", "technician"],
            organization_id=sub.organization.id,
        ),
        metadata=metadata,
    )
    assert manager.user.organization_id == sub.organization.id


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    identity: RunningIdentity,
) -> None:
    first, first_metadata = await admin_metadata(identity)
    second = await seed_user(identity, roles=["admin"], slug=None, mfa_required_roles=[])
    # Put the second admin into the first admin's tenant.
    from sqlalchemy import update

    from identity.models import User

    async with identity.database.unit_of_work() as session:
        await session.execute(
            update(User)
            .where(User.id == second.user_id)
            .values(tenant_id=first.tenant_id, organization_id=first.organization_id)
        )
    second.tenant_id, second.slug = first.tenant_id, first.slug
    second_metadata = await for_identity(identity, (await login(identity, second)).access_token)

    results = await asyncio.gather(
        identity.stub.UpdateUser(
            pb.UpdateUserRequest(id=second.user_id, update_mask=["roles"], roles=["dispatcher"]),
            metadata=first_metadata,
        ),
        identity.stub.UpdateUser(
            pb.UpdateUserRequest(id=first.user_id, update_mask=["roles"], roles=["dispatcher"]),
            metadata=second_metadata,
        ),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(failures) == 1
    assert error_code(failures[0]) in ("last_admin", None) or failures[0].code() in (
        grpc.StatusCode.UNAUTHENTICATED,
    )
    async with identity.database.unit_of_work() as session:
        users = (await session.scalars(select(User).where(User.tenant_id == first.tenant_id))).all()
    assert [user.id for user in users if "admin" in user.roles and user.status == "active"]


async def test_deactivation_revokes_sessions_once_and_hides_other_tenants(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    other_admin, other_metadata = await admin_metadata(identity)
    created = await identity.stub.CreateUser(
        pb.CreateUserRequest(email="leaver@example.com", name="Leaver", roles=["technician"]),
        metadata=metadata,
    )
    # Another tenant's admin sees nothing of it.
    for call in (
        identity.stub.GetUser(pb.GetUserRequest(id=created.user.id), metadata=other_metadata),
        identity.stub.DeactivateUser(
            pb.DeactivateUserRequest(id=created.user.id), metadata=other_metadata
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await call
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND

    for _ in range(2):
        deactivated = await identity.stub.DeactivateUser(
            pb.DeactivateUserRequest(id=created.user.id), metadata=metadata
        )
        assert deactivated.user.status == pb.USER_STATUS_DEACTIVATED
    payloads = await _outbox(identity, "user_deactivated")
    events = [events_pb.UserDeactivated.FromString(p) for p in payloads]
    assert [e.user_id for e in events if e.tenant_id == admin.tenant_id] == [created.user.id]

    # The last admin cannot deactivate themselves.
    with pytest.raises(grpc.aio.AioRpcError) as last:
        await identity.stub.DeactivateUser(
            pb.DeactivateUserRequest(id=admin.user_id), metadata=metadata
        )
    assert error_code(last.value) == "last_admin"
    del other_admin


async def test_reducing_roles_ends_the_users_sessions(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    worker = await seed_user(identity, roles=["dispatcher", "technician"], mfa_required_roles=[])
    from sqlalchemy import update

    from identity.models import User

    async with identity.database.unit_of_work() as session:
        await session.execute(
            update(User)
            .where(User.id == worker.user_id)
            .values(tenant_id=admin.tenant_id, organization_id=admin.organization_id)
        )
    worker.tenant_id, worker.slug = admin.tenant_id, admin.slug
    session_token = (await login(identity, worker)).access_token
    worker_metadata = await for_identity(identity, session_token)

    await identity.stub.UpdateUser(
        pb.UpdateUserRequest(id=worker.user_id, update_mask=["name"], name="Renamed"),
        metadata=metadata,
    )
    await identity.stub.GetMe(pb.GetMeRequest(), metadata=worker_metadata)  # still fine

    await identity.stub.UpdateUser(
        pb.UpdateUserRequest(id=worker.user_id, update_mask=["roles"], roles=["technician"]),
        metadata=metadata,
    )
    with pytest.raises(grpc.aio.AioRpcError) as revoked:
        await identity.stub.GetMe(pb.GetMeRequest(), metadata=worker_metadata)
    assert revoked.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reasons = [
        events_pb.SessionRevoked.FromString(p).reason
        for p in await _outbox(identity, "session_revoked")
    ]
    assert reasons == [events_pb.SESSION_REVOKED_REASON_ROLES_CHANGED]


async def test_moving_a_user_to_another_organisation_announces_it_once(
    identity: RunningIdentity,
) -> None:
    _, metadata = await admin_metadata(identity)
    own = await identity.stub.CreateUser(
        pb.CreateUserRequest(email="tech@example.com", name="T", roles=["technician"]),
        metadata=metadata,
    )
    sub = await identity.stub.CreateOrganization(
        pb.CreateOrganizationRequest(
            name="Sub Oy",
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on="2026-01-01",
            dpa_expires_on="2030-12-31",
        ),
        metadata=metadata,
    )
    await identity.stub.UpdateUser(
        pb.UpdateUserRequest(id=own.user.id, update_mask=["name"], name="Renamed"),
        metadata=metadata,
    )
    assert await _outbox(identity, "user_organization_changed") == []
    await identity.stub.UpdateUser(
        pb.UpdateUserRequest(
            id=own.user.id, update_mask=["organization_id"], organization_id=sub.organization.id
        ),
        metadata=metadata,
    )
    moves = [
        events_pb.UserOrganizationChanged.FromString(p)
        for p in await _outbox(identity, "user_organization_changed")
    ]
    assert [
        (m.user_id, m.previous_organization_id, m.organization_id, m.tenant_id) for m in moves
    ] == [(own.user.id, own.user.organization_id, sub.organization.id, own.user.tenant_id)]
