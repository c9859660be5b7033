"""Organisations and their DPAs, areas and partner clients through identity's gRPC API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from identity_testkit import RunningIdentity, admin_metadata, error_code
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from identity.directory.dpa_watch import DpaLapseWatcher

pytestmark = pytest.mark.integration


async def _lapses(identity: RunningIdentity, organization_id: str) -> list[str]:
    async with identity.database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.subject.like("%.organization_dpa_lapsed"))
        )
        events = [events_pb.OrganizationDpaLapsed.FromString(p) for p in rows.all()]
    return [e.dpa_expires_on for e in events if e.organization_id == organization_id]


async def _subcontractor(
    identity: RunningIdentity, metadata: tuple[tuple[str, str]], *, expires: str
) -> pb.Organization:
    created = await identity.stub.CreateOrganization(
        pb.CreateOrganizationRequest(
            name=f"Sub {expires}",
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on="2025-01-01",
            dpa_expires_on=expires,
        ),
        metadata=metadata,
    )
    return created.organization


async def test_the_own_organisation_exists_and_only_subcontractors_can_be_added(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    listed = await identity.stub.ListOrganizations(pb.ListOrganizationsRequest(), metadata=metadata)
    assert [(o.id, o.kind) for o in listed.organizations] == [
        (admin.organization_id, pb.ORGANIZATION_KIND_OWN)
    ]
    with pytest.raises(grpc.aio.AioRpcError) as own:
        await identity.stub.CreateOrganization(
            pb.CreateOrganizationRequest(name="Second own", kind=pb.ORGANIZATION_KIND_OWN),
            metadata=metadata,
        )
    assert own.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as dates:
        await identity.stub.CreateOrganization(
            pb.CreateOrganizationRequest(
                name="Backwards",
                kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
                dpa_signed_on="2026-05-01",
                dpa_expires_on="2026-04-01",
            ),
            metadata=metadata,
        )
    assert "dpa_expires_on" in dates.value.details()


async def test_clearing_an_active_dpa_announces_the_lapse_and_a_stale_etag_is_refused(
    identity: RunningIdentity,
) -> None:
    _, metadata = await admin_metadata(identity)
    organization = await _subcontractor(identity, metadata, expires="2031-12-31")
    assert organization.dpa_active

    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await identity.stub.UpdateOrganization(
            pb.UpdateOrganizationRequest(
                id=organization.id, update_mask=["name"], name="New", etag='"999"'
            ),
            metadata=metadata,
        )
    assert error_code(stale.value) == "precondition_failed"

    updated = await identity.stub.UpdateOrganization(
        pb.UpdateOrganizationRequest(
            id=organization.id,
            update_mask=["dpa_signed_on", "dpa_expires_on"],
            etag=organization.etag,
        ),
        metadata=metadata,
    )
    assert not updated.organization.dpa_active
    assert await _lapses(identity, organization.id) == [""]


async def test_the_signed_dpa_document_is_referred_to_and_changing_it_keeps_the_dpa_active(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    organization = await _subcontractor(identity, metadata, expires="2031-12-31")
    document_id = "0b7f6a52-3d1c-4e55-9a43-5b7c2f0e9d11"

    linked = await identity.stub.UpdateOrganization(
        pb.UpdateOrganizationRequest(
            id=organization.id, update_mask=["dpa_document_id"], dpa_document_id=document_id
        ),
        metadata=metadata,
    )
    assert linked.organization.dpa_document_id == document_id
    assert linked.organization.dpa_active
    assert await _lapses(identity, organization.id) == []

    for bad in ("../../etc/passwd", "x" * 37):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.UpdateOrganization(
                pb.UpdateOrganizationRequest(
                    id=organization.id, update_mask=["dpa_document_id"], dpa_document_id=bad
                ),
                metadata=metadata,
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "dpa_document_id" in refused.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as own:
        await identity.stub.UpdateOrganization(
            pb.UpdateOrganizationRequest(
                id=admin.organization_id,
                update_mask=["dpa_document_id"],
                dpa_document_id=document_id,
            ),
            metadata=metadata,
        )
    assert own.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    cleared = await identity.stub.UpdateOrganization(
        pb.UpdateOrganizationRequest(id=organization.id, update_mask=["dpa_document_id"]),
        metadata=metadata,
    )
    assert cleared.organization.dpa_document_id == ""


async def test_a_dpa_that_expires_by_the_calendar_is_announced_once_by_racing_watchers(
    identity: RunningIdentity,
) -> None:
    _, metadata = await admin_metadata(identity)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    expired = await _subcontractor(identity, metadata, expires=yesterday)
    current = await _subcontractor(identity, metadata, expires=tomorrow)
    assert not expired.dpa_active and current.dpa_active

    # Nobody touches either record; two replicas' watchers run.
    watchers = [
        DpaLapseWatcher(identity.database, interval=60, wake_relay=lambda: None) for _ in range(2)
    ]
    counts = [await watcher.check_once() for watcher in watchers]
    assert await _lapses(identity, expired.id) == [yesterday]
    assert await _lapses(identity, current.id) == []

    # Two days on, the other one lapses too (the clock is the watcher's).
    later = DpaLapseWatcher(
        identity.database,
        interval=60,
        wake_relay=lambda: None,
        clock=lambda: datetime.combine(
            date.fromisoformat(tomorrow) + timedelta(days=1), datetime.min.time(), UTC
        ),
    )
    assert await later.check_once() == 1
    assert await _lapses(identity, current.id) == [tomorrow]
    assert await _lapses(identity, expired.id) == [yesterday]
    assert counts == [1, 0]


async def test_areas_are_per_tenant_and_named_once(identity: RunningIdentity) -> None:
    _, metadata = await admin_metadata(identity)
    _, other_metadata = await admin_metadata(identity)
    north = await identity.stub.CreateArea(pb.CreateAreaRequest(name="North"), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await identity.stub.CreateArea(pb.CreateAreaRequest(name="North"), metadata=metadata)
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
    mine = await identity.stub.ListAreas(pb.ListAreasRequest(), metadata=metadata)
    theirs = await identity.stub.ListAreas(pb.ListAreasRequest(), metadata=other_metadata)
    assert [a.id for a in mine.areas] == [north.area.id]
    assert list(theirs.areas) == []

    for name in ("East", "South", "West"):
        await identity.stub.CreateArea(pb.CreateAreaRequest(name=name), metadata=metadata)
    names, token = [], ""
    while True:
        page = await identity.stub.ListAreas(
            pb.ListAreasRequest(page_size=3, page_token=token), metadata=metadata
        )
        names += [area.name for area in page.areas]
        token = page.next_page_token
        if not token:
            break
    assert names == ["East", "North", "South", "West"]
    with pytest.raises(grpc.aio.AioRpcError) as bad_token:
        await identity.stub.ListAreas(
            pb.ListAreasRequest(page_token="not-a-token"), metadata=metadata
        )
    assert bad_token.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_api_client_secret_is_shown_once_works_and_stops_working_when_deleted(
    identity: RunningIdentity,
) -> None:
    _, metadata = await admin_metadata(identity)
    with pytest.raises(grpc.aio.AioRpcError) as reveal:
        await identity.stub.CreateApiClient(
            pb.CreateApiClientRequest(name="ERP", scopes=["secrets:reveal"]), metadata=metadata
        )
    assert error_code(reveal.value) == "invalid_scope"

    created = await identity.stub.CreateApiClient(
        pb.CreateApiClientRequest(name="ERP", scopes=["work_orders:read"]), metadata=metadata
    )
    secret = created.client_secret
    listed = await identity.stub.ListApiClients(pb.ListApiClientsRequest(), metadata=metadata)
    assert secret not in str(listed)
    token = await identity.stub.IssueClientToken(
        pb.IssueClientTokenRequest(client_id=created.api_client.client_id, client_secret=secret)
    )
    assert token.scope == "work_orders:read"

    await identity.stub.DeleteApiClient(
        pb.DeleteApiClientRequest(id=created.api_client.id), metadata=metadata
    )
    with pytest.raises(grpc.aio.AioRpcError) as revoked:
        await identity.stub.IssueClientToken(
            pb.IssueClientTokenRequest(client_id=created.api_client.client_id, client_secret=secret)
        )
    assert error_code(revoked.value) == "invalid_client"
    # Tokens it already holds can no longer be exchanged at the gateway either.
    with pytest.raises(grpc.aio.AioRpcError) as exchanged:
        await identity.stub.ExchangeToken(
            pb.ExchangeTokenRequest(subject_token=token.access_token, audience="work_order")
        )
    assert exchanged.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_admin_actions_are_in_the_identity_audit_log(identity: RunningIdentity) -> None:
    admin, metadata = await admin_metadata(identity)
    await identity.stub.CreateArea(pb.CreateAreaRequest(name="South"), metadata=metadata)
    records = await identity.stub.ListAuditRecords(
        pb.ListAuditRecordsRequest(page_size=10), metadata=metadata
    )
    actions = [(r.action, r.outcome, r.actor) for r in records.records]
    assert ("area.create", "success", admin.user_id) in actions
    assert ("login", "success", admin.user_id) in actions
