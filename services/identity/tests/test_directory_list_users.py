"""ListUsers filters (role, organisation, active only), as notification uses them to
find recipients, against the real service and database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from identity_testkit import (
    RunningIdentity,
    Seeded,
    admin_metadata,
    error_code,
    service_metadata,
)

from fieldvault.identity.v1 import identity_pb2 as pb
from identity.models import User

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]


async def _person(
    identity: RunningIdentity,
    tenant: Seeded,
    roles: list[str],
    *,
    organization_id: str = "",
    status: str = "active",
    user_id: str = "",
) -> str:
    """A user of ``tenant`` stored directly (active by default); returns its id."""
    now = datetime.now(UTC)
    user_id = user_id or str(uuid.uuid4())
    async with identity.database.unit_of_work() as session:
        session.add(
            User(
                id=user_id,
                tenant_id=tenant.tenant_id,
                email=f"{user_id[:12]}@example.com",
                name="Person",
                roles=roles,
                organization_id=organization_id or tenant.organization_id,
                status=status,
                totp_confirmed=False,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    return user_id


async def _subcontractor(identity: RunningIdentity, metadata: Metadata, name: str) -> str:
    created = await identity.stub.CreateOrganization(
        pb.CreateOrganizationRequest(
            name=name,
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on="2026-01-01",
            dpa_expires_on="2030-12-31",
        ),
        metadata=metadata,
    )
    return str(created.organization.id)


async def _pages(
    identity: RunningIdentity, metadata: Metadata, *, page_size: int = 0, **filters: Any
) -> list[list[pb.User]]:
    """Every page of ListUsers with ``filters``, following next_page_token."""
    pages: list[list[pb.User]] = []
    token = ""
    while True:
        response = await identity.stub.ListUsers(
            pb.ListUsersRequest(page_size=page_size, page_token=token, **filters),
            metadata=metadata,
        )
        pages.append(list(response.users))
        token = response.next_page_token
        if not token:
            return pages
        assert len(pages) < 100, "paging does not end"


async def _ids(identity: RunningIdentity, metadata: Metadata, **filters: Any) -> set[str]:
    users = [user for page in await _pages(identity, metadata, **filters) for user in page]
    ids = [user.id for user in users]
    assert len(ids) == len(set(ids))
    return set(ids)


async def test_role_filter_lists_only_holders_of_that_role(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    auditor = await _person(identity, admin, ["auditor"])
    auditor_dpo = await _person(identity, admin, ["auditor", "dpo"])
    dpo = await _person(identity, admin, ["dpo"])
    dispatcher = await _person(identity, admin, ["dispatcher", "technician"])

    assert await _ids(identity, metadata) == {
        admin.user_id,
        auditor,
        auditor_dpo,
        dpo,
        dispatcher,
    }
    assert await _ids(identity, metadata, role="auditor") == {auditor, auditor_dpo}
    assert await _ids(identity, metadata, role="admin") == {admin.user_id}
    assert await _ids(identity, metadata, role="dpo") == {auditor_dpo, dpo}
    assert await _ids(identity, metadata, role="technician") == {dispatcher}
    assert await _ids(identity, metadata, role="subcontractor_manager") == set()


async def test_organisation_and_role_filters_combine(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    first = await _subcontractor(identity, metadata, "First Sub Oy")
    second = await _subcontractor(identity, metadata, "Second Sub Oy")
    first_manager = await _person(
        identity, admin, ["subcontractor_manager", "technician"], organization_id=first
    )
    first_technician = await _person(identity, admin, ["technician"], organization_id=first)
    second_manager = await _person(
        identity, admin, ["subcontractor_manager"], organization_id=second
    )
    own_technician = await _person(identity, admin, ["technician"])

    assert await _ids(identity, metadata, role="subcontractor_manager", organization_id=first) == {
        first_manager
    }
    assert await _ids(identity, metadata, role="subcontractor_manager") == {
        first_manager,
        second_manager,
    }
    assert await _ids(identity, metadata, organization_id=first) == {
        first_manager,
        first_technician,
    }
    assert await _ids(identity, metadata, role="technician", organization_id=first) == {
        first_manager,
        first_technician,
    }
    assert await _ids(identity, metadata, organization_id=admin.organization_id) == {
        admin.user_id,
        own_technician,
    }


async def test_active_only_leaves_out_deactivated_and_invited_users(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    staying = await _person(identity, admin, ["auditor"])
    leaving = await _person(identity, admin, ["auditor"])
    invited = await identity.stub.CreateUser(
        pb.CreateUserRequest(email="new.auditor@example.com", name="New", roles=["auditor"]),
        metadata=metadata,
    )
    deactivated = await identity.stub.DeactivateUser(
        pb.DeactivateUserRequest(id=leaving), metadata=metadata
    )
    assert deactivated.user.status == pb.USER_STATUS_DEACTIVATED

    assert await _ids(identity, metadata, role="auditor") == {
        staying,
        leaving,
        invited.user.id,
    }
    assert await _ids(identity, metadata, role="auditor", active_only=True) == {staying}
    assert await _ids(identity, metadata, active_only=True) == {admin.user_id, staying}


async def test_paging_a_filtered_list_serves_every_match_once(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    # Ids sorted so that matches and non-matches alternate in the listing
    # order: a filter applied after paging would leave pages empty or short.
    matches: list[str] = []
    for index in range(5):
        matches.append(
            await _person(
                identity, admin, ["auditor"], user_id=f"{2 * index:02x}{uuid.uuid4().hex[2:]}"
            )
        )
        await _person(
            identity, admin, ["dispatcher"], user_id=f"{2 * index + 1:02x}{uuid.uuid4().hex[2:]}"
        )
        await _person(
            identity,
            admin,
            ["auditor"],
            status="deactivated",
            user_id=f"{2 * index + 1:02x}f{uuid.uuid4().hex[3:]}",
        )

    pages = await _pages(identity, metadata, page_size=1, role="auditor", active_only=True)
    assert [[user.id for user in page] for page in pages] == [[match] for match in sorted(matches)]

    pages = await _pages(identity, metadata, page_size=2, role="auditor", active_only=True)
    assert [user.id for page in pages for user in page] == sorted(matches)
    assert [len(page) for page in pages] == [2, 2, 1]


async def test_an_unknown_role_or_organisation_is_an_invalid_argument(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    other, other_metadata = await admin_metadata(identity)
    for role in ("superuser", "%", "admin%", "_dmin", "Admin", '"admin"', "admin "):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.ListUsers(pb.ListUsersRequest(role=role), metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, role
        assert error_code(refused.value) == "invalid_argument"
        assert (refused.value.details() or "").startswith("role "), role
    for organization_id in (str(uuid.uuid4()), other.organization_id):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.ListUsers(
                pb.ListUsersRequest(organization_id=organization_id), metadata=metadata
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "organization_id" in (refused.value.details() or "")
    del admin, other_metadata


async def test_filters_never_reach_another_tenants_users(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    other, other_metadata = await admin_metadata(identity)
    ours = await _person(identity, admin, ["auditor"])
    theirs = await _person(identity, other, ["auditor"])
    other_sub = await _subcontractor(identity, other_metadata, "Their Sub Oy")
    await _person(identity, other, ["subcontractor_manager"], organization_id=other_sub)

    assert await _ids(identity, metadata, role="auditor", active_only=True) == {ours}
    assert await _ids(identity, metadata, role="admin", active_only=True) == {admin.user_id}
    assert await _ids(identity, metadata, role="subcontractor_manager") == set()
    assert await _ids(identity, metadata) == {admin.user_id, ours}
    assert await _ids(identity, other_metadata, role="auditor") == {theirs}

    notification = await service_metadata(
        identity, service="notification", tenant_id=admin.tenant_id
    )
    assert await _ids(identity, notification, role="auditor", active_only=True) == {ours}
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.ListUsers(
            pb.ListUsersRequest(organization_id=other_sub, role="subcontractor_manager"),
            metadata=notification,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_notification_finds_recipients_with_its_service_token(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    auditor = await _person(identity, admin, ["auditor"])
    await _person(identity, admin, ["auditor"], status="deactivated")
    await _person(identity, admin, ["admin"], status="invited")
    sub = await _subcontractor(identity, metadata, "Sub Oy")
    manager = await _person(identity, admin, ["subcontractor_manager"], organization_id=sub)
    await _person(identity, admin, ["technician"], organization_id=sub)

    notification = await service_metadata(
        identity, service="notification", tenant_id=admin.tenant_id
    )
    assert await _ids(identity, notification, role="auditor", active_only=True) == {auditor}
    assert await _ids(identity, notification, role="admin", active_only=True) == {admin.user_id}
    assert await _ids(
        identity,
        notification,
        role="subcontractor_manager",
        organization_id=sub,
        active_only=True,
        page_size=1,
    ) == {manager}
    listed = (
        await identity.stub.ListUsers(
            pb.ListUsersRequest(role="subcontractor_manager", organization_id=sub),
            metadata=notification,
        )
    ).users
    assert [(user.id, user.organization_id, user.status) for user in listed] == [
        (manager, sub, pb.USER_STATUS_ACTIVE)
    ]


async def test_a_subcontractor_manager_sees_only_their_own_organisations_people(
    identity: RunningIdentity,
) -> None:
    from identity_testkit import for_identity, login, seed_user
    from sqlalchemy import update

    from identity.models import Organization

    manager = await seed_user(identity, roles=["subcontractor_manager"], mfa_required_roles=[])
    now = datetime.now(UTC)
    subcontractor = str(uuid.uuid4())
    async with identity.database.unit_of_work() as session:
        session.add(
            Organization(
                id=subcontractor,
                tenant_id=manager.tenant_id,
                name="Fast Fixers",
                kind="subcontractor",
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        await session.flush()
        await session.execute(
            update(User).where(User.id == manager.user_id).values(organization_id=subcontractor)
        )
    theirs = await _person(identity, manager, ["technician"], organization_id=subcontractor)
    staff = await _person(identity, manager, ["technician"])  # the company's own

    metadata = await for_identity(identity, (await login(identity, manager)).access_token)
    listed = [u.id for page in await _pages(identity, metadata) for u in page]
    assert sorted(listed) == sorted([manager.user_id, theirs])
    seen = await identity.stub.GetUser(pb.GetUserRequest(id=theirs), metadata=metadata)
    assert seen.user.id == theirs
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await identity.stub.GetUser(pb.GetUserRequest(id=staff), metadata=metadata)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
