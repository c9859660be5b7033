"""Directory rules under races and stale reads, and paging edge cases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from identity_testkit import (
    RunningIdentity,
    admin_metadata,
    error_code,
    for_identity,
    login,
    seed_user,
)
from sqlalchemy import select

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.auth import Principal, PrincipalKind, bearer_metadata
from fieldvault_platform.db import is_sqlite
from fieldvault_platform.errors import FailedPrecondition
from identity import audit
from identity.directory import people
from identity.directory.access import Caller
from identity.models import User

pytestmark = pytest.mark.integration


def _caller(tenant_id: str, user_id: str) -> Caller:
    now = datetime.now(UTC)
    principal = Principal(
        subject=user_id,
        kind=PrincipalKind.USER,
        tenant_id=tenant_id,
        organization_id=None,
        roles=frozenset({"admin"}),
        area_ids=frozenset(),
        scopes=frozenset({"users:manage"}),
        session_id=None,
        token_id=str(uuid.uuid4()),
        audience="identity",
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    return Caller(tenant_id, user_id, principal)


async def _demote(session: people.AsyncSession, caller: Caller, user_id: str) -> None:
    await people.update_user(
        session,
        caller,
        user_id=user_id,
        mask=["roles"],
        name="",
        roles=["dispatcher"],
        organization_id="",
        area_ids=[],
        etag="",
        now=datetime.now(UTC),
    )


async def test_an_admin_whose_own_demotion_just_committed_cannot_demote_the_last_admin(
    identity: RunningIdentity,
) -> None:
    first = await seed_user(identity, roles=["admin"], mfa_required_roles=[])
    second_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with identity.database.unit_of_work() as session:
        session.add(
            User(
                id=second_id,
                tenant_id=first.tenant_id,
                email="second@example.com",
                name="Second",
                roles=["admin"],
                organization_id=first.organization_id,
                status="active",
                totp_confirmed=False,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )

    with pytest.raises(FailedPrecondition) as refused:
        async with identity.database.unit_of_work() as late:
            # The second admin's request has loaded (and still holds) its caller
            # when the first admin's demotion of them commits.
            caller = await late.get(User, second_id)
            assert caller is not None and caller.roles == ["admin"]
            async with identity.database.unit_of_work() as early:
                await _demote(early, _caller(first.tenant_id, first.user_id), second_id)
            await _demote(late, _caller(first.tenant_id, second_id), first.user_id)
    assert refused.value.code == "last_admin"

    async with identity.database.unit_of_work() as session:
        admins = (
            await session.scalars(
                select(User.id).where(User.tenant_id == first.tenant_id, User.status == "active")
            )
        ).all()
        first_roles = (await session.get(User, first.user_id)).roles  # type: ignore[union-attr]
    assert len(admins) == 2 and first_roles == ["admin"]


async def test_racing_creations_of_one_email_or_name_give_one_result_and_already_exists(
    identity: RunningIdentity,
) -> None:
    _, metadata = await admin_metadata(identity)
    requests = {
        "user_exists": lambda: identity.stub.CreateUser(
            pb.CreateUserRequest(email="twin@example.com", name="Twin", roles=["technician"]),
            metadata=metadata,
        ),
        "area_exists": lambda: identity.stub.CreateArea(
            pb.CreateAreaRequest(name="North"), metadata=metadata
        ),
        "organization_exists": lambda: identity.stub.CreateOrganization(
            pb.CreateOrganizationRequest(name="Twin Oy", kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR),
            metadata=metadata,
        ),
        "tenant_exists": lambda: identity.stub.CreateTenant(
            pb.CreateTenantRequest(
                slug="twins", name="Twins", admin_email="a@twins.example", admin_name="A"
            ),
            metadata=bearer_metadata(identity.operator_token),
        ),
    }
    if is_sqlite(identity.settings.database_url):
        # Six racing tenant creations on SQLite sometimes leave the losers
        # waiting out busy_timeout ("database is locked" -> UNAVAILABLE); the
        # embedded database is for development, the race matters on PostgreSQL.
        del requests["tenant_exists"]
    for code, call in requests.items():
        results = await asyncio.gather(*(call() for _ in range(6)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 5, (code, failures)
        for failure in failures:
            assert isinstance(failure, grpc.aio.AioRpcError), failure
            assert failure.code() == grpc.StatusCode.ALREADY_EXISTS, (code, failure)
            assert error_code(failure) == code


async def test_audit_pages_skip_no_record_that_shares_a_timestamp(
    identity: RunningIdentity,
) -> None:
    admin = await seed_user(identity, roles=["admin", "auditor"], mfa_required_roles=[])
    metadata = await for_identity(identity, (await login(identity, admin)).access_token)
    at = datetime(2020, 1, 1, tzinfo=UTC)
    async with identity.database.unit_of_work() as session:
        written = [
            audit.record(
                session,
                audit.AuditEntry(tenant_id=admin.tenant_id, actor="x", action=f"test.{n}"),
                at=at,
            )
            for n in range(5)
        ]

    seen: list[str] = []
    token = ""
    while True:
        page = await identity.stub.ListAuditRecords(
            pb.ListAuditRecordsRequest(page_size=2, page_token=token), metadata=metadata
        )
        seen += [record.id for record in page.records]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert set(written) <= set(seen)
    assert seen[-5:] == sorted(written, reverse=True)  # oldest last, ties by id

    for bad in ("not-a-token", "W10", "WzFd"):  # junk, [], [1]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.ListAuditRecords(
                pb.ListAuditRecordsRequest(page_token=bad), metadata=metadata
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
