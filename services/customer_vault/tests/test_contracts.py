"""Contract documents: encrypted, type-checked, size-limited, and every download audited."""

from __future__ import annotations

import hashlib

import grpc
import pytest
from vault_testkit import TIMEOUT, RunningVault, audit_events, grant, new_place, new_tenant_id

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"max_contract_bytes": 1024}


async def upload(
    vault: RunningVault, customer_id: str, caller: tuple[tuple[str, str], ...], **fields: object
) -> pb.Contract:
    values: dict[str, object] = {
        "filename": "service agreement.pdf",
        "content_type": "application/pdf",
        "content": PDF,
        **fields,
    }
    response = await vault.stub.UploadContract(
        pb.UploadContractRequest(customer_id=customer_id, **values),  # type: ignore[arg-type]
        metadata=caller,
        timeout=TIMEOUT,
    )
    return response.contract


async def test_a_contract_round_trips_with_its_hash_and_the_download_is_audited(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    contract = await upload(customer_vault, place.customer.id, place.dispatcher)
    assert (contract.filename, contract.size, contract.sha256) == (
        "service agreement.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    listed = await customer_vault.stub.ListContracts(
        pb.ListContractsRequest(customer_id=place.customer.id),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    assert [c.id for c in listed.contracts] == [contract.id]
    downloaded = await customer_vault.stub.DownloadContract(
        pb.DownloadContractRequest(id=contract.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert downloaded.content == PDF
    downloads = await audit_events(customer_vault, place.tenant_id, action="contract.download")
    assert [(e.resource_id, e.customer_id) for e in downloads] == [(contract.id, place.customer.id)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content_type": "application/pdf", "content": b"MZ\x90\x00 not a pdf"}, "is not"),
        ({"content_type": "application/x-msdownload"}, "content_type must be one of"),
        ({"content": b"%PDF-" + b"x" * 2000}, "larger than 1024 bytes"),
        ({"content": b""}, "empty"),
        ({"filename": "../../etc/passwd"}, "path separators"),
        ({"filename": "a\r\nX-Injected: 1.pdf"}, "control characters"),
        ({"content_type": "text/plain", "content": b"\xff\xfe"}, "UTF-8"),
    ],
)
async def test_a_bad_document_is_refused_with_a_clear_message(
    customer_vault: RunningVault, fields: dict[str, object], message: str
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), door_code=None)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(customer_vault, place.customer.id, place.dispatcher, **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (caught.value.details() or "")


async def test_a_technician_downloads_only_with_a_grant_that_includes_contracts(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    contract = await upload(customer_vault, place.customer.id, place.dispatcher)
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    request = pb.DownloadContractRequest(id=contract.id)
    await grant(customer_vault, place, user_id="tech-1", fields=["door_code"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.DownloadContract(request, metadata=technician, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    await grant(customer_vault, place, user_id="tech-1", fields=["contracts"])
    downloaded = await customer_vault.stub.DownloadContract(
        request, metadata=technician, timeout=TIMEOUT
    )
    assert downloaded.content == PDF
