"""Subcontractors' DPA documents: stored encrypted here, for admins only, surviving key rotation
and the key-version destruction that a customer's erasure performs."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import select
from vault_testkit import TIMEOUT, RunningVault, audit_events, new_place

from customer_vault.models import OrganizationKey
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_devstack.identity_driver import IdentityDriver

pytestmark = pytest.mark.integration

DPA = b"%PDF-1.7 Data processing agreement, signed 2026-01-05\n%%EOF\n"


async def test_an_admin_stores_a_subcontractors_dpa_and_it_outlives_rotation_and_erasure(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    subcontractor = await identity.new_subcontractor(
        tenant, dpa_signed_on="2026-01-05", dpa_expires_on="2099-01-05"
    )
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"], user_id="admin-1")
    uploaded = await customer_vault.stub.UploadDpaDocument(
        pb.UploadDpaDocumentRequest(
            organization_id=subcontractor,
            filename="DPA Sub Oy.pdf",
            content_type="application/pdf",
            content=DPA,
        ),
        metadata=admin,
        timeout=TIMEOUT,
    )
    document = uploaded.document
    assert (document.organization_id, document.filename, document.size) == (
        subcontractor,
        "DPA Sub Oy.pdf",
        len(DPA),
    )
    listed = await customer_vault.stub.ListDpaDocuments(
        pb.ListDpaDocumentsRequest(organization_id=subcontractor), metadata=admin, timeout=TIMEOUT
    )
    assert [d.id for d in listed.documents] == [document.id]

    # A customer's erasure destroys old tenant key versions; rotation re-wraps first.
    place = await new_place(customer_vault, tenant.id)
    dpo = await customer_vault.mint.user(tenant.id, roles=["dpo"])
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=place.customer.id, reason="Art. 17"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    downloaded = await customer_vault.stub.DownloadDpaDocument(
        pb.DownloadDpaDocumentRequest(id=document.id), metadata=admin, timeout=TIMEOUT
    )
    assert downloaded.content == DPA
    async with customer_vault.database.unit_of_work() as session:
        holder = await session.scalar(
            select(OrganizationKey).where(OrganizationKey.organization_id == subcontractor)
        )
    assert holder is not None and holder.key_version >= 2
    actions = [e.action for e in await audit_events(customer_vault, tenant.id)]
    assert "dpa_document.upload" in actions and "dpa_document.download" in actions


async def test_only_admins_store_dpas_and_only_for_a_subcontractor_of_their_tenant(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    subcontractor = await identity.new_subcontractor(tenant)
    request = pb.UploadDpaDocumentRequest(
        organization_id=subcontractor,
        filename="dpa.pdf",
        content_type="application/pdf",
        content=DPA,
    )
    dispatcher = await customer_vault.mint.user(tenant.id, roles=["dispatcher"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.UploadDpaDocument(request, metadata=dispatcher, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"])
    for organization_id in ("no-such-organisation", ""):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.UploadDpaDocument(
                pb.UploadDpaDocumentRequest(
                    organization_id=organization_id,
                    filename="dpa.pdf",
                    content_type="application/pdf",
                    content=DPA,
                ),
                metadata=admin,
                timeout=TIMEOUT,
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    other_admin = await customer_vault.mint.user("another-tenant", roles=["admin"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.UploadDpaDocument(request, metadata=other_admin, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
